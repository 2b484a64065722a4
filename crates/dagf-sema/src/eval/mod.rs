//! The evaluator: runs top-level statements, instantiates factories, builds each DAG
//! layer by layer, checks values against their declared types, and lowers the result.

use crate::Options;
use crate::builtins::{self, Builtin};
use crate::checks;
use crate::ids::{
    CallbackId, FactoryId, GroupId, Id, IdVec, InstanceId, KindId, ModuleId, OperatorId, ProfileId,
    SourceId, TaskId, TemplateId,
};
use crate::modules::{BindingKind, Program};
use crate::types::{FieldTy, RecordTy, Ty};
use crate::value::{Asset, Bound, Callback, Item, Partial, V, Value};

mod args;
mod body;
mod cached;
mod callbacks;
mod coerce;
mod compose;
mod dags;
mod data;
mod deps;
mod expr;
mod globals;
mod mapping;
mod ops;
mod params;
mod pools;
mod profiles;
mod tasks;
mod tenants;
mod test_body;
mod unions;
mod unused;

use args::missing;
pub(crate) use body::ROLE_FIELDS;
pub use cached::{Caching, ModuleCache, ModuleResult};
pub(crate) use params::lower_params;
pub(crate) use test_body::{TestRun, run_test};

use crate::dag::{After, DagB, Endpoint, GroupB, Node, Slots, TaskB};
use crate::layers::{Layer, Layers, Slot, declared_again, not_a_list, set_slot, set_twice};
use crate::words::{
    TakeSuggestion, a_kind, abbreviate, describe, display, help_for, range_text, with_article,
};
use dagf_diag::{Code, Diagnostic, Diagnostics, Sources, Span};
use dagf_syntax::ast::{
    self, BinOp, CallbackKind, DeclKind, DepOp, Expr, ExprKind, Stmt, StrPart, UnOp,
};
use dagf_time::DateTime;
use std::collections::HashMap;
use std::rc::Rc;

/// Work done before the evaluator gives up (E0210), and the deepest nesting it follows.
const MAX_STEPS: u64 = 20_000_000;
const MAX_DEPTH: u32 = 400;

/// One tenant, evaluated when first used.
#[derive(Clone, Debug)]
enum InstanceState {
    Pending,
    /// Being evaluated: a use now is a cycle.
    Busy,
    Done(Rc<Instance>),
    Failed,
}

/// A tenant with its fields filled in: what `in` places a dag in.
#[derive(Debug)]
pub struct Instance {
    pub kind: KindId,
    pub name: String,
    pub name_span: Span,
    /// `tenant` (its name) and every schema field, for the kind's expressions.
    pub env: Env,
    /// The assets other scopes may consume.
    pub exports: Vec<Value>,
    /// The output subfolder of its dags.
    pub folder: String,
    /// Whether crossing into or out of it (trigger, sensor, asset) is checked.
    pub isolated: bool,
    /// The Airflow team that owns its dags (multi-team mode), and where that is set.
    pub team: Option<(String, Span)>,
}

type Env = Vec<(Rc<str>, Value)>;

/// A record value's fields, shared.
type Fields = Rc<Vec<(Rc<str>, Value)>>;

/// What evaluating the top-level statements of some modules found.
struct Share {
    project: dagf_ir::Project,
    facts: Vec<crate::scopes::Facts>,
    diags: Diagnostics,
    /// Mistakes of factory bodies as reported, to the mistake alone.
    made_as: HashMap<Diagnostic, Diagnostic>,
    /// Every dag made, errors or not: its id, where declared, named and placed.
    ids: Vec<(String, IdRecord)>,
    /// Every dag id its statements began to make, and whether one may be missing.
    dag_ids: std::collections::HashSet<String>,
    ids_unsure: bool,
    used_factories: std::collections::HashSet<FactoryId>,
    extended: std::collections::HashSet<FactoryId>,
    parent_missing: std::collections::BTreeMap<FactoryId, Vec<Diagnostic>>,
    used_templates: std::collections::HashSet<TemplateId>,
    used_callbacks: std::collections::HashSet<CallbackId>,
    placed_kinds: std::collections::HashSet<KindId>,
}

/// A dag id and where it comes from, for the duplicate check across the project.
#[derive(Clone, Copy, Debug, serde::Serialize, serde::Deserialize)]
struct IdRecord {
    name_span: Span,
    named_by: Option<Span>,
    /// The tenant, and where the dag is placed in it.
    placed: Option<(InstanceId, Span)>,
}

pub fn run(
    prog: &Program,
    sources: &Sources,
    options: &Options,
    emit: Option<&crate::Emit>,
    diags: &mut Diagnostics,
) -> dagf_ir::Project {
    let mut cx = Cx::new(prog, sources, options, emit, diags);
    if !cx.check_env() {
        cx.flush_refs();
        return cx.project;
    }
    cx.check_kinds();
    for &m in &prog.order {
        cx.globals_of(m);
    }
    // A file that did not load or parse, a config source that failed, a declaration
    // in error: any of them may hide dags, so an id no dag has is no sure mistake.
    cx.ids_unsure = cx.diags.has_errors();
    // The dags of large projects are made on every core: the modules are split into
    // contiguous runs of about equal size, so the dags keep their order. A project of
    // one share is made by this evaluator itself.
    let shares = split_modules(prog, crate::par::threads(options.threads));
    let mut ids: HashMap<String, IdRecord> = HashMap::new();
    let mut check_ids = |cx: &mut Cx, found: Vec<(String, IdRecord)>| {
        for (id, here) in found {
            match ids.get(&id) {
                Some(prev) => cx.err(duplicate_id(&id, here, *prev)),
                None => {
                    ids.insert(id, here);
                }
            }
        }
    };
    if let (None, [modules]) = (&options.cache, shares.as_slice()) {
        cx.make_dags(modules);
        let found = std::mem::take(&mut cx.ids);
        check_ids(&mut cx, found);
    } else {
        let results: Vec<Share> = match &options.cache {
            // One share per module, each kept in (or taken from) the cache.
            Some(caching) => {
                let modules: Vec<ModuleId> = shares.concat();
                cached::shares(prog, sources, options, emit, caching, &modules)
            }
            None => crate::par::each_part(&shares, |mods| {
                evaluate_share(prog, sources, options, emit, mods)
            }),
        };
        for share in results {
            for d in share.diags.into_sorted() {
                // A factory-body mistake another share already reported is said once.
                if let Some(core) = share.made_as.get(&d)
                    && !cx.made.insert(core.clone())
                {
                    continue;
                }
                cx.diags.push(d);
            }
            cx.project.dags.extend(share.project.dags);
            cx.project.built.extend(share.project.built);
            cx.facts.extend(share.facts);
            cx.dag_ids.extend(share.dag_ids);
            cx.ids_unsure |= share.ids_unsure;
            cx.used_factories.extend(share.used_factories);
            cx.extended.extend(share.extended);
            for (f, missing) in share.parent_missing {
                cx.parent_missing.entry(f).or_insert(missing);
            }
            cx.used_templates.extend(share.used_templates);
            cx.used_callbacks.extend(share.used_callbacks);
            cx.placed_kinds.extend(share.placed_kinds);
            check_ids(&mut cx, share.ids);
        }
    }
    cx.check_unused_factories();
    cx.check_unused_templates();
    for c in prog.callbacks.ids() {
        if !cx.used_callbacks.contains(&c) && prog.callbacks[c].module != prog.std_module {
            cx.check_unused_callback(c);
        }
    }
    cx.check_all_instances();
    cx.check_other_profiles();
    let known = crate::scopes::Known {
        assets: &cx.asset_decls,
        dag_ids: &cx.dag_ids,
        all_dags: !cx.ids_unsure,
        extern_dags: &cx.extern_dags,
    };
    cx.project.teams = crate::scopes::check(&cx.facts, &known, cx.diags);
    let declared = cx.declared_pools();
    let pools = crate::pools::check(declared, &cx.facts, cx.diags);
    cx.project.pools = pools.iter().filter_map(crate::pools::to_ir).collect();
    cx.flush_refs();
    cx.project
}

/// The user modules in import order, split for the available cores when the project
/// is large enough to gain from it.
fn split_modules(prog: &Program, cores: usize) -> Vec<Vec<ModuleId>> {
    let modules: Vec<ModuleId> = prog
        .order
        .iter()
        .copied()
        .filter(|&m| m != prog.std_module)
        .collect();
    let weight = |m: &ModuleId| prog.modules[*m].ast.items.len();
    let total: usize = modules.iter().map(weight).sum();
    if cores < 2 || total < 2_000 || modules.len() < 2 {
        return vec![modules];
    }
    let per_share = total.div_ceil(cores);
    let mut shares: Vec<Vec<ModuleId>> = vec![Vec::new()];
    let mut size = 0;
    for m in modules {
        if size >= per_share && shares.len() < cores {
            shares.push(Vec::new());
            size = 0;
        }
        size += weight(&m);
        if let Some(last) = shares.last_mut() {
            last.push(m);
        }
    }
    shares
}

/// Makes the dags of the top-level statements of `modules`.
fn evaluate_share(
    prog: &Program,
    sources: &Sources,
    options: &Options,
    emit: Option<&crate::Emit>,
    modules: &[ModuleId],
) -> Share {
    let mut diags = Diagnostics::new();
    let mut cx = Cx::new(prog, sources, options, emit, &mut diags);
    // Globals first (assets and top-level lets, in import order), then the DAGs. The
    // main evaluator has already reported the globals' mistakes.
    for &m in &prog.order {
        cx.globals_of(m);
    }
    cx.diags.take_from(0);
    cx.make_dags(modules);
    let (project, ids) = (std::mem::take(&mut cx.project), std::mem::take(&mut cx.ids));
    let made_as = std::mem::take(&mut cx.made_as);
    let facts = std::mem::take(&mut cx.facts);
    let dag_ids = std::mem::take(&mut cx.dag_ids);
    let ids_unsure = cx.ids_unsure;
    let extended = std::mem::take(&mut cx.extended);
    let parent_missing = std::mem::take(&mut cx.parent_missing);
    let used = (
        std::mem::take(&mut cx.used_factories),
        std::mem::take(&mut cx.used_templates),
        std::mem::take(&mut cx.used_callbacks),
        std::mem::take(&mut cx.placed_kinds),
    );
    cx.flush_refs();
    drop(cx);
    Share {
        project,
        facts,
        diags,
        made_as,
        ids,
        dag_ids,
        ids_unsure,
        used_factories: used.0,
        extended,
        parent_missing,
        used_templates: used.1,
        used_callbacks: used.2,
        placed_kinds: used.3,
    }
}

/// E0310: two dags with one id, each side labelled (and the naming convention, when a
/// tenant's made the id).
fn duplicate_id(id: &str, here: IdRecord, prev: IdRecord) -> Diagnostic {
    let message = format!("dag id `{id}` is used twice in the project");
    match (here.named_by, here.placed, prev.placed) {
        // Made by a naming convention from two tenants: show the two placements.
        (Some(at), Some((a, placed)), Some((b, there))) if a != b => {
            Diagnostic::at(Code::E0310, placed, message, "placed here")
                .with_label(there, "and here, with the same id")
                .with_label(at, "the tenant's naming convention makes the id")
                .with_help("make the naming convention tell these dags apart (it should use `${dag}` and a field unique to each tenant), or rename one of the dags")
        }
        (named_by, _, _) => {
            let d = declared_again(Code::E0310, here.name_span, prev.name_span, message);
            match named_by {
                Some(at) => d
                    .with_label(at, "the tenant's naming convention makes the id")
                    .with_help("rename one of the dags, and check that the naming convention uses `${dag}`"),
                None => d.with_help("every DAG needs its own id; rename one of them"),
            }
        }
    }
}

fn std_record(prog: &Program, name: &str) -> Rc<RecordTy> {
    Rc::new(prog.std_record(name).cloned().unwrap_or(RecordTy {
        name: Some(name.to_string()),
        fields: Vec::new(),
        rules: Vec::new(),
    }))
}

struct Cx<'a> {
    prog: &'a Program,
    /// Declared assets by URI, for the producer check.
    asset_decls: HashMap<dagf_ir::AssetId, crate::scopes::AssetDecl>,
    /// `extern dag` ids, each with where it is first declared.
    extern_dags: HashMap<String, Span>,
    /// Every dag id a `dag` statement began to make, with or without errors.
    dag_ids: std::collections::HashSet<String>,
    /// Whether a statement that makes dags failed before its dags' ids were known.
    ids_unsure: bool,
    /// Where a tenant's `name` was read, and the tenant's kind: a config string
    /// compared with it must name a tenant of that kind.
    tenant_names: HashMap<Span, KindId>,
    /// Declared asset URIs by their normal form: Airflow's name for the asset, where,
    /// and whether it was written as a plain URI.
    asset_spellings: HashMap<String, (String, Span, bool)>,
    /// Airflow's asset names: the normal form of the URI each stands for, and where.
    asset_names: HashMap<String, (String, Span)>,
    sources: &'a Sources,
    options: &'a Options,
    /// What each dag becomes once made, when the caller turns them into files now.
    emit: Option<&'a crate::Emit<'a>>,
    /// What the checks across the project need of every dag made.
    facts: Vec<crate::scopes::Facts>,
    diags: &'a mut Diagnostics,
    globals: IdVec<ModuleId, HashMap<String, Value>>,
    steps: u64,
    depth: u32,
    limit_reported: bool,
    /// While a factory body runs: the instantiation, and a label saying so.
    making: Option<(Span, String)>,
    /// While a value is tried against one member of a union: the errors it would
    /// have, kept aside instead of reported.
    trial: Option<Vec<Diagnostic>>,
    /// Factories at least one dag was made from.
    used_factories: std::collections::HashSet<FactoryId>,
    /// Factories run as the parent of another: checked as a layer of that one.
    extended: std::collections::HashSet<FactoryId>,
    /// For each concrete factory run as a parent, the abstract tasks of its ancestors it
    /// leaves undeclared (the first run's finding), said if no dag is made from it.
    parent_missing: std::collections::BTreeMap<FactoryId, Vec<Diagnostic>>,
    /// Templates and callbacks something used (the others are checked on their own).
    used_templates: std::collections::HashSet<TemplateId>,
    used_callbacks: std::collections::HashSet<CallbackId>,
    /// In an `after` block: what `roots()` and `leaves()` return.
    after_ctx: Option<(Vec<TaskId>, Vec<TaskId>)>,
    /// Every tenant, by declaration.
    instances: IdVec<InstanceId, InstanceState>,
    /// Kinds at least one dag was placed in (the others' policies are checked alone).
    placed_kinds: std::collections::HashSet<KindId>,
    /// Mixins applied so far: each application is a layer of its own.
    mixin_applications: usize,
    /// The mixin of each application and where it was mixed in, for provenance and
    /// for conflicts between layers.
    mixin_uses: Vec<(String, Span)>,
    /// Mistakes already reported from a factory body.
    made: std::collections::HashSet<Diagnostic>,
    /// Each of those as reported (with the dag it was made for), to the mistake itself:
    /// shares of a parallel run say each mistake once between them too.
    made_as: HashMap<Diagnostic, Diagnostic>,
    /// Every dag made, for the duplicate-id check over the whole project.
    ids: Vec<(String, IdRecord)>,
    project: dagf_ir::Project,
    task_args: Rc<RecordTy>,
    sensor_args: Rc<RecordTy>,
    /// `setup`, `teardown` and `on_failure_fail_dagrun`: task fields that are not arguments.
    task_role: Rc<RecordTy>,
    dag_args: Rc<RecordTy>,
    /// Whether each file (by id) holds config data: values from there keep pointing
    /// there when a name, a field or an index reads them.
    config_file: Vec<bool>,
    /// Where the value a name, field or index just read was written, when that is in a
    /// config file (taken by `expr`).
    data_span: Option<Span>,
    /// For provenance: each record that took a field's declared default, by the
    /// record's place, with the field, where its default is written and the value.
    defaulted: crate::checks::Defaulted,
    /// The field whose value `coerce` is checking, when that is a task's, dag's or
    /// group's field (what decides whether a task's output may stand there).
    place: Option<coerce::FieldPlace>,
    /// In a test: the record each dag of the test was bound to, and the dag's index in
    /// `project.dags` (what `snapshot` takes).
    test_dags: Vec<(Fields, usize)>,
    /// Name uses resolved, when tools asked for them (a body runs once per dag made
    /// from it: each use is kept once).
    refs: Option<std::collections::HashSet<crate::refs::Raw>>,
}

impl<'a> Cx<'a> {
    fn new(
        prog: &'a Program,
        sources: &'a Sources,
        options: &'a Options,
        emit: Option<&'a crate::Emit<'a>>,
        diags: &'a mut Diagnostics,
    ) -> Self {
        Cx {
            prog,
            sources,
            options,
            emit,
            facts: Vec::new(),
            diags,
            globals: IdVec::filled(prog.modules.len(), HashMap::new()),
            steps: 0,
            depth: 0,
            limit_reported: false,
            making: None,
            trial: None,
            made: Default::default(),
            made_as: HashMap::new(),
            used_factories: Default::default(),
            extended: Default::default(),
            parent_missing: Default::default(),
            used_templates: Default::default(),
            used_callbacks: Default::default(),
            after_ctx: None,
            mixin_applications: 0,
            instances: IdVec::filled(prog.instances.len(), InstanceState::Pending),
            asset_decls: HashMap::new(),
            extern_dags: HashMap::new(),
            dag_ids: Default::default(),
            ids_unsure: false,
            tenant_names: HashMap::new(),
            asset_spellings: HashMap::new(),
            asset_names: HashMap::new(),
            placed_kinds: Default::default(),
            mixin_uses: Vec::new(),
            ids: Vec::new(),
            project: dagf_ir::Project::default(),
            task_args: std_record(prog, "TaskArgs"),
            sensor_args: std_record(prog, "SensorArgs"),
            task_role: std_record(prog, "TaskRole"),
            dag_args: std_record(prog, "DagArgs"),
            config_file: {
                let mut is = vec![false; sources.len()];
                let files = prog.sources.iter().flat_map(|s| &s.files);
                for f in files.chain(prog.config_files.values()) {
                    if let Some(x) = is.get_mut(f.0 as usize) {
                        *x = true;
                    }
                }
                is
            },
            data_span: None,
            defaulted: HashMap::new(),
            place: None,
            refs: prog.refs.on().then(Default::default),
            test_dags: Vec::new(),
        }
    }

    /// Notes a name use and what it resolved to, when tools asked for them.
    fn note(&mut self, raw: crate::refs::Raw) {
        if let Some(refs) = &mut self.refs {
            refs.insert(raw);
        }
    }

    /// Notes a use of the module-level name `n` (or import alias) as seen from `m`.
    fn note_global(&mut self, m: ModuleId, n: &str, at: Span) {
        if self.refs.is_none() {
            return;
        }
        let prog = self.prog;
        let alias = prog.modules[m]
            .imports
            .iter()
            .find(|i| i.alias.as_deref() == Some(n) && i.target.is_some());
        let raw = match (alias, prog.lookup(m, n)) {
            (Some(i), _) => crate::refs::Raw::Def {
                at,
                def: i.span,
                kind: crate::refs::DefKind::Module,
            },
            (None, Some(b)) => crate::refs::Raw::Def {
                at,
                def: b.span,
                kind: crate::refs::kind_of(&b.kind),
            },
            (None, None) => return,
        };
        self.note(raw);
    }

    /// Hands the uses noted to the program's list.
    fn flush_refs(&mut self) {
        if let Some(refs) = self.refs.take() {
            self.prog.refs.extend(refs);
        }
    }

    /// Remembers where a value just read was written, if that is in a config file.
    fn read_data(&mut self, v: &Value) {
        self.data_span = self.read_from_config(v.span).then_some(v.span);
    }

    fn err(&mut self, d: Diagnostic) {
        if let Some(kept) = &mut self.trial {
            kept.push(d);
            return;
        }
        // A mistake in a factory body may depend on the arguments: say which dag it was.
        // One that does not is the same for every dag made from the factory: say it once.
        let d = match &self.making {
            Some((span, text)) => {
                if !self.made.insert(d.clone()) {
                    return;
                }
                // Not twice: a conflict may already show where its mixin was mixed in.
                let shown = d
                    .primary
                    .iter()
                    .chain(&d.secondary)
                    .any(|l| l.span == *span);
                let full = if shown {
                    d.clone()
                } else {
                    d.clone().with_label(*span, text.clone())
                };
                self.made_as.insert(full.clone(), d);
                full
            }
            None => d,
        };
        self.diags.push(d);
    }

    fn tick(&mut self, span: Span) -> bool {
        self.steps += 1;
        if self.steps > MAX_STEPS || self.depth > MAX_DEPTH {
            if !self.limit_reported {
                self.limit_reported = true;
                let what = if self.depth > MAX_DEPTH {
                    format!("expressions nested deeper than {MAX_DEPTH} levels")
                } else {
                    format!("more than {MAX_STEPS} evaluation steps")
                };
                self.err(
                    Diagnostic::at(
                        Code::E0210,
                        span,
                        format!("evaluation limit reached: {what}"),
                        "while evaluating this",
                    )
                    .with_help("split the work into smaller loops or simpler expressions"),
                );
            }
            return false;
        }
        true
    }
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(super) enum Scope {
    Dag,
    Group(GroupId),
    Task(TaskId),
}

/// E0203: `name` is none of the fields (or keys) `known` a record, a task or a tenant
/// has. The help is "did you mean" the closest one, else `help`; a note lists them
/// after `listed`.
pub(super) fn no_such_field(
    at: Span,
    message: String,
    label: impl Into<String>,
    name: &str,
    known: &[&str],
    help: impl Into<String>,
    listed: &str,
) -> Diagnostic {
    Diagnostic::at(Code::E0203, at, message, label)
        .with_suggestion(name, known.iter().copied())
        .or_help(help)
        .with_note(format!("{listed}: {}", abbreviate(known)))
}
