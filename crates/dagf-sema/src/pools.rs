//! Pools: the ones the project declares (at the top level, or one per tenant through a
//! tenant kind), and the checks over every task that names one. Airflow never checks a
//! pool when it parses a DAG file: a task in a pool that does not exist, or that asks
//! for more slots than its pool has, is simply never run.

use crate::scopes::Facts;
use dagf_diag::{Code, Diagnostic, Diagnostics, Span};
use dagf_ir::{Dag, Value};
use std::collections::{HashMap, HashSet};

/// Airflow's own pool, which every deployment has (`Pool.DEFAULT_POOL_NAME`,
/// `airflow/models/pool.py`); a task without a pool runs in it.
pub const DEFAULT_POOL: &str = "default_pool";

/// Airflow's longest pool name: `slot_pool.pool` is `String(256)`, and
/// `airflow pools import` refuses longer names (`airflow/api/client/local_client.py`).
pub const MAX_NAME: usize = 256;

/// A pool as declared, evaluated.
#[derive(Clone, Debug)]
pub struct Declared {
    pub name: String,
    /// Where it is declared: the pool's name, or for a tenant kind's pool the tenant.
    pub at: Span,
    /// A tenant kind's pool: where the kind names it.
    pub named_by: Option<Span>,
    pub slots: i64,
    pub slots_at: Span,
    pub description: Option<String>,
    pub include_deferred: bool,
    /// The tenant that owns it, for a tenant kind's pool.
    pub owner: Option<Owner>,
    /// `extern pool`: made outside the project, of a size not known here; not written.
    pub is_extern: bool,
}

/// The tenant a pool belongs to.
#[derive(Clone, Debug)]
pub struct Owner {
    pub kind: String,
    pub tenant: String,
    pub isolated: bool,
}

/// A task's pool: the task, the pool, where it was set, and the slots the task takes.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Use {
    task_id: String,
    pool: String,
    at: Span,
    slots: i64,
    slots_at: Option<Span>,
}

impl Use {
    /// The places it points at.
    pub(crate) fn spans(&self) -> impl Iterator<Item = Span> + '_ {
        std::iter::once(self.at).chain(self.slots_at)
    }
}

/// The pool of every task of `dag`: its own `pool` argument, else the dag's
/// `default_args`; a task in no pool (or `none`) is in `default_pool`. Tasks alike (the
/// same pool, set at the same place, taking the same slots) give one use, the first
/// task's: the checks say once what they say of all of them, naming the first, so a dag
/// whose tasks share a pool keeps one use, not one per task.
pub fn uses(dag: &Dag) -> Vec<Use> {
    let default = |name: &str| dag.default_args.iter().find(|f| f.name == name);
    let mut uses: Vec<Use> = Vec::new();
    for task in dag.tasks() {
        let Some(pool) = task.arg("pool").or_else(|| default("pool")) else {
            continue;
        };
        let Value::Str(name) = &pool.value else {
            continue;
        };
        let slots = task.arg("pool_slots").or_else(|| default("pool_slots"));
        let (n, slots_at) = match slots.map(|f| (&f.value, f.origin)) {
            Some((Value::Int(n), at)) => (*n, Some(at)),
            _ => (1, None),
        };
        let alike = |u: &Use| {
            u.at == pool.origin && u.slots == n && u.slots_at == slots_at && u.pool == *name
        };
        if !uses.iter().any(alike) {
            uses.push(Use {
                task_id: task.task_id.clone(),
                pool: name.clone(),
                at: pool.origin,
                slots: n,
                slots_at,
            });
        }
    }
    uses.shrink_to_fit();
    uses
}

/// Keeps the first of each name (a second is E0330, naming both), then checks every
/// task's pool; the pools to write, by name.
pub fn check(pools: Vec<Declared>, dags: &[Facts], diags: &mut Diagnostics) -> Vec<Declared> {
    let mut kept: Vec<Declared> = Vec::new();
    let mut by_name: HashMap<String, usize> = HashMap::new();
    // A kind's pool named alike for every tenant is one mistake, however many tenants.
    let mut kinds_said: HashSet<Span> = HashSet::new();
    for p in pools {
        if let Some(&first) = by_name.get(&p.name) {
            let prev = &kept[first];
            let once = match p.named_by {
                Some(at) if p.named_by == prev.named_by => kinds_said.insert(at),
                _ => true,
            };
            if once {
                diags.push(duplicate(&p, prev));
            }
            continue;
        }
        by_name.insert(p.name.clone(), kept.len());
        kept.push(p);
    }
    let names: Vec<&str> = kept
        .iter()
        .map(|p| p.name.as_str())
        .chain(std::iter::once(DEFAULT_POOL))
        .collect();
    // One mistake, one error: a pool set once for many tasks (in `default_args`, a
    // factory, a loop, a policy for every tenant) is reported once, for the first.
    let mut said: HashSet<(Span, Code)> = HashSet::new();
    for dag in dags {
        for u in &dag.pools {
            let Some(&i) = by_name.get(&u.pool) else {
                if u.pool != DEFAULT_POOL && said.insert((u.at, Code::E0328)) {
                    diags.push(unknown(u, &dag.dag_id, &names));
                }
                continue;
            };
            let p = &kept[i];
            if let Some(o) = &p.owner {
                let (kind, tenant, isolated) = match &dag.scope {
                    Some(s) => (Some(s.kind.as_str()), Some(s.tenant.as_str()), s.isolated),
                    None => (None, None, false),
                };
                let same = kind == Some(o.kind.as_str()) && tenant == Some(o.tenant.as_str());
                if !same && (o.isolated || isolated) {
                    if said.insert((u.at, Code::E0329)) {
                        diags.push(foreign(u, &dag.dag_id, tenant, p, o, isolated, &kind));
                    }
                    continue;
                }
            }
            if p.slots >= 0 && u.slots > p.slots {
                let at = u.slots_at.unwrap_or(u.at);
                if said.insert((at, Code::E0330)) {
                    diags.push(too_many_slots(u, p, at));
                }
            }
        }
    }
    kept.sort_by(|a, b| a.name.cmp(&b.name));
    kept
}

/// The IR's form of a declared pool, `None` for an `extern` one (not written).
pub fn to_ir(p: &Declared) -> Option<dagf_ir::Pool> {
    if p.is_extern {
        return None;
    }
    Some(dagf_ir::Pool {
        name: p.name.clone(),
        slots: p.slots,
        description: p.description.clone(),
        include_deferred: p.include_deferred,
        span: p.at,
    })
}

fn duplicate(p: &Declared, prev: &Declared) -> Diagnostic {
    let message = format!("the pool `{}` is declared twice", p.name);
    let whose = |d: &Declared| match &d.owner {
        Some(o) => format!(" (for tenant `{}`)", o.tenant),
        None => String::new(),
    };
    let mut d = if p.at == prev.at {
        Diagnostic::at(Code::E0330, p.at, message, "declared more than once here")
    } else {
        Diagnostic::at(
            Code::E0330,
            p.at,
            message,
            format!("declared again here{}", whose(p)),
        )
        .with_label(prev.at, format!("first declared here{}", whose(prev)))
    };
    for named_by in [p.named_by, prev.named_by].into_iter().flatten() {
        if !d.secondary.iter().any(|l| l.span == named_by) && p.at != named_by {
            d = d.with_label(named_by, "the tenant kind names its pools here");
        }
    }
    let help = if p.named_by.is_some() && p.named_by == prev.named_by {
        "a tenant kind's pool needs a name of its own for each tenant: put `${tenant}` in it"
    } else {
        "a pool is declared once: rename one of them, or remove one"
    };
    d.with_help(help)
}

fn unknown(u: &Use, dag_id: &str, names: &[&str]) -> Diagnostic {
    Diagnostic::at(
        Code::E0328,
        u.at,
        format!(
            "task `{}` of dag `{dag_id}` uses the pool `{}`, which is not declared",
            u.task_id, u.pool
        ),
        "no pool of this name",
    )
    .with_note("Airflow never runs a task whose pool does not exist")
    .with_suggestion(&u.pool, names.iter().copied())
    .or_help(format!(
        "declare it with `pool {} {{ slots = 8 }}`, or use `{DEFAULT_POOL}`",
        shown_name(&u.pool)
    ))
}

fn foreign(
    u: &Use,
    dag_id: &str,
    tenant: Option<&str>,
    p: &Declared,
    o: &Owner,
    user_isolated: bool,
    kind: &Option<&str>,
) -> Diagnostic {
    let whose = match tenant {
        Some(t) => format!("`{dag_id}` is in tenant `{t}`"),
        None => format!("`{dag_id}` is in no tenant"),
    };
    let mut kinds: Vec<&str> = Vec::new();
    if o.isolated {
        kinds.push(&o.kind);
    }
    if user_isolated && let Some(k) = kind {
        kinds.push(k);
    }
    kinds.dedup();
    Diagnostic::at(
        Code::E0329,
        u.at,
        format!(
            "task `{}` of dag `{dag_id}` uses the pool `{}` of tenant `{}`",
            u.task_id, p.name, o.tenant
        ),
        whose,
    )
    .with_label(p.at, format!("`{}` belongs to tenant `{}`", p.name, o.tenant))
    .with_help(format!(
        "tenants are isolated and so are their pools: use {}a pool declared at the top level, or set `isolated = false` on `{}`",
        if tenant.is_some() { "a pool of the dag's own tenant, " } else { "" },
        kinds.join("` and `")
    ))
}

fn too_many_slots(u: &Use, p: &Declared, at: Span) -> Diagnostic {
    Diagnostic::at(
        Code::E0330,
        at,
        format!(
            "task `{}` takes {} slots of the pool `{}`, which has {}",
            u.task_id, u.slots, p.name, p.slots
        ),
        "more slots than the pool has",
    )
    .with_label(p.slots_at, format!("`{}` has {} slots", p.name, p.slots))
    .with_note("Airflow's scheduler never runs a task that needs more slots than its pool has; it waits for ever")
    .with_help("lower the task's `pool_slots`, or give the pool more slots")
}

/// A pool name as a declaration would write it: bare if it is a name, else quoted.
fn shown_name(name: &str) -> String {
    let bare = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if bare {
        name.to_string()
    } else {
        format!("{name:?}")
    }
}
