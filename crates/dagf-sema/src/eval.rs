//! The evaluator: runs top-level statements, instantiates factories, builds each DAG
//! layer by layer, checks values against their declared types, and lowers the result.

use crate::Options;
use crate::builtins::{self, Builtin};
use crate::checks;
use crate::modules::{BindingKind, Program};
use crate::types::{FieldTy, RecordTy, Ty};
use crate::value::{Asset, Bound, Callback, Item, Partial, V, Value};

mod profiles;
mod tenants;
use dagf_diag::{Code, Diagnostic, Diagnostics, Sources, Span};
use dagf_ir::{Date, DateTime};
use dagf_syntax::ast::{
    self, BinOp, CallbackKind, DeclKind, DepOp, Expr, ExprKind, Stmt, StrPart, UnOp,
};
use std::collections::HashMap;
use std::rc::Rc;

/// Work done before the evaluator gives up (E0210), and the deepest nesting it follows.
const MAX_STEPS: u64 = 20_000_000;
const MAX_DEPTH: u32 = 400;

/// Which layer set a value; a later layer must say `override` to replace an earlier one.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Layer {
    /// A task template's body, by template; a template's parent comes before it.
    Template(usize),
    /// The body of a factory the instantiated one extends, by factory.
    Parent(usize),
    /// A mixin's body, by application (one mixin applied twice is two layers): mixins
    /// layer in `with` order.
    Mixin(usize),
    Factory,
    Body,
    /// The policy of the tenant kind the dag is placed in, by kind.
    Policy(usize),
    /// The profile of the environment built for, by profile: applied last.
    Profile(usize),
}

/// How messages name the layers of one dag, and where each mixin was mixed in.
struct Layers<'a> {
    prog: &'a Program,
    mixins: &'a [(String, Span)],
    /// The factory the dag is made from.
    made_from: Option<&'a str>,
}

impl Layers<'_> {
    fn name(&self, layer: Layer) -> String {
        match layer {
            Layer::Template(t) => {
                format!("the template `{}`", self.prog.templates[t].decl.name.name)
            }
            Layer::Parent(f) => {
                format!(
                    "the parent factory `{}`",
                    self.prog.factories[f].decl.name.name
                )
            }
            Layer::Mixin(a) => match self.mixins.get(a) {
                Some((name, _)) => format!("the mixin `{name}`"),
                None => "the mixin".to_string(),
            },
            Layer::Factory => match self.made_from {
                Some(f) => format!("the factory `{f}`"),
                None => "the factory".to_string(),
            },
            Layer::Body => "the dag body".to_string(),
            Layer::Policy(k) => format!("the policy of `{}`", self.prog.tenants[k].decl.name.name),
            Layer::Profile(p) => format!("the profile `{}`", self.prog.profiles[p].decl.name.name),
        }
    }

    /// Where a mixin layer was mixed in (`with NAME(...)`).
    fn mixed_in(&self, layer: Layer) -> Option<(&str, Span)> {
        match layer {
            Layer::Mixin(a) => self.mixins.get(a).map(|(n, at)| (n.as_str(), *at)),
            _ => None,
        }
    }
}

/// A named value with its layer and the statement that set it.
#[derive(Clone, Debug)]
pub struct Slot {
    pub name: Rc<str>,
    pub value: Value,
    pub layer: Layer,
    pub span: Span,
    /// The earlier layers whose values this one replaced or merged with, oldest first.
    pub history: Vec<(Layer, Span)>,
}

#[derive(Clone, Debug)]
pub struct TaskB {
    pub id: String,
    pub op: usize,
    pub slots: Vec<Slot>,
    pub span: Span,
    pub name_span: Span,
    /// The body had a syntax error, so a field it seems to lack may be in the broken part.
    pub incomplete: bool,
    /// Fields an unknown (misspelt) field was taken for: not also reported missing.
    pub meant: Vec<String>,
    /// The task group it is declared in.
    pub group: Option<usize>,
    /// Its name inside that group (`id` has the group path in front).
    pub local: String,
}

/// A task or a task group of the DAG being built.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Node {
    Task(usize),
    Group(usize),
}

/// A task group under construction.
#[derive(Clone, Debug)]
pub struct GroupB {
    pub local: String,
    /// The group path, as Airflow prefixes task ids with it (`outer.inner`).
    pub id: String,
    pub parent: Option<usize>,
    pub name_span: Span,
    pub slots: Vec<Slot>,
    /// How many tasks were declared before it (its place among them in the output).
    pub order: usize,
    depth: usize,
    names: HashMap<String, Node>,
}

#[derive(Clone, Debug)]
enum Endpoint {
    Node(Node),
    /// A name (or `group.name` path) looked up from a scope once the body is complete.
    Path(Vec<(Rc<str>, Span)>, Option<usize>),
}

/// A DAG under construction.
#[derive(Debug)]
pub struct DagB {
    pub id: String,
    pub span: Span,
    pub name_span: Span,
    pub slots: Vec<Slot>,
    pub tasks: Vec<TaskB>,
    pub groups: Vec<GroupB>,
    /// Names at the top of the DAG body; each group has its own.
    by_name: HashMap<String, Node>,
    /// The group whose body is being evaluated.
    scope: Option<usize>,
    /// Tasks declared with an error (already reported): `>>` on them says nothing more.
    failed: Vec<String>,
    /// Dependencies, with the nesting depth of the body that declared them.
    edges: Vec<(Endpoint, Endpoint, Span, usize)>,
    layer: Layer,
    /// What messages call it: "dag", or the "factory" or "template" checked on its own.
    kind: &'static str,
    /// The factory it is made from, and where that factory's name is written.
    made_from: Option<(String, Span)>,
    /// `abstract task` placeholders: (name, where, declaring factory).
    abstracts: Vec<(String, Span, String)>,
    /// The abstract factory whose body is being evaluated, if it is one.
    in_abstract: Option<String>,
    /// Mixins' `after` blocks, run once every body is done.
    afters: Vec<After>,
    /// The tenant the dag is placed in (`in`), and where that is written.
    tenant: Option<(usize, Span)>,
    /// The naming convention that made the id, if one did.
    pub named_by: Option<Span>,
    /// Mixin applications before this dag's: its own are numbered from here.
    mixin_base: usize,
}

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
    pub kind: usize,
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
}

/// Whose fields a statement sets.
#[derive(Copy, Clone, Debug)]
enum Slots {
    Dag,
    Task(usize),
    Group(usize),
}

/// Arguments matched to parameters: a slot per parameter, and whether all was well.
struct Given {
    slots: Vec<Option<(Value, Span)>>,
    ok: bool,
    /// An argument came out of order: "missing" would only guess at what was meant.
    out_of_order: bool,
    /// Parameters a misspelt argument was taken for: not also reported missing.
    meant: Vec<String>,
}

/// A mixin's `after` block waiting for the DAG to be complete.
#[derive(Clone, Debug)]
struct After {
    module: usize,
    env: Env,
    body: Vec<Stmt>,
    layer: Layer,
    /// The tasks the mixin itself declared: not counted among anyone's roots and leaves.
    own: std::ops::Range<usize>,
}

impl DagB {
    fn new(id: String, span: Span, name_span: Span, unused_factory: bool) -> Self {
        DagB {
            id,
            span,
            name_span,
            slots: Vec::new(),
            tasks: Vec::new(),
            groups: Vec::new(),
            by_name: HashMap::new(),
            scope: None,
            failed: Vec::new(),
            edges: Vec::new(),
            layer: Layer::Factory,
            kind: if unused_factory { "factory" } else { "dag" },
            made_from: None,
            abstracts: Vec::new(),
            in_abstract: None,
            afters: Vec::new(),
            tenant: None,
            named_by: None,
            mixin_base: 0,
        }
    }

    fn names_mut(&mut self, scope: Option<usize>) -> &mut HashMap<String, Node> {
        match scope {
            Some(g) => &mut self.groups[g].names,
            None => &mut self.by_name,
        }
    }

    fn names(&self, scope: Option<usize>) -> &HashMap<String, Node> {
        match scope {
            Some(g) => &self.groups[g].names,
            None => &self.by_name,
        }
    }

    fn node_span(&self, n: Node) -> Span {
        match n {
            Node::Task(t) => self.tasks[t].name_span,
            Node::Group(g) => self.groups[g].name_span,
        }
    }

    /// What a name declared in the current scope gets in front of it.
    fn prefix(&self) -> String {
        self.scope
            .map_or(String::new(), |g| format!("{}.", self.groups[g].id))
    }

    fn depth(&self) -> usize {
        self.scope.map_or(0, |g| self.groups[g].depth + 1)
    }

    /// Whether task `t` is inside group `g`, at any depth.
    fn inside(&self, t: usize, g: usize) -> bool {
        let mut cur = self.tasks[t].group;
        while let Some(c) = cur {
            if c == g {
                return true;
            }
            cur = self.groups[c].parent;
        }
        false
    }

    /// A group's first tasks (`roots`) or last tasks, given the task edges so far.
    fn ends(&self, g: usize, edges: &[(usize, usize, Span)], roots: bool) -> Vec<usize> {
        (0..self.tasks.len())
            .filter(|&t| self.inside(t, g))
            .filter(|&t| {
                !edges.iter().any(|&(a, b, _)| {
                    let (this, other) = if roots { (b, a) } else { (a, b) };
                    this == t && self.inside(other, g)
                })
            })
            .collect()
    }

    /// How messages name it: "dag `x`", or "factory `x`" when checking an unused factory.
    pub fn what(&self) -> String {
        format!("{} `{}`", self.kind, self.id)
    }
}

type Env = Vec<(Rc<str>, Value)>;

/// What evaluating the top-level statements of some modules found.
struct Share {
    project: dagf_ir::Project,
    facts: Vec<crate::scopes::Facts>,
    diags: Diagnostics,
    /// Mistakes of factory bodies as reported, to the mistake alone.
    made_as: HashMap<Diagnostic, Diagnostic>,
    /// Every dag made, errors or not: its id, where declared, named and placed.
    ids: Vec<(String, IdRecord)>,
    used_factories: std::collections::HashSet<usize>,
    used_templates: std::collections::HashSet<usize>,
    used_callbacks: std::collections::HashSet<usize>,
    placed_kinds: std::collections::HashSet<usize>,
}

/// A dag id and where it comes from, for the duplicate check across the project.
#[derive(Clone, Copy, Debug)]
struct IdRecord {
    name_span: Span,
    named_by: Option<Span>,
    /// The tenant, and where the dag is placed in it.
    placed: Option<(usize, Span)>,
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
        return cx.project;
    }
    cx.check_kinds();
    for &m in &prog.order {
        cx.globals_of(m);
    }
    // The dags of large projects are made on every core: the modules are split into
    // contiguous runs of about equal size, so the dags keep their order. A project of
    // one share is made by this evaluator itself.
    let shares = split_modules(prog);
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
    if let [modules] = shares.as_slice() {
        cx.make_dags(modules);
        let found = std::mem::take(&mut cx.ids);
        check_ids(&mut cx, found);
    } else {
        let results: Vec<Share> = std::thread::scope(|s| {
            let handles: Vec<_> = shares
                .iter()
                .map(|mods| {
                    let thread = std::thread::Builder::new()
                        .stack_size(256 << 20)
                        .spawn_scoped(s, || evaluate_share(prog, sources, options, emit, mods));
                    (mods, thread)
                })
                .collect();
            handles
                .into_iter()
                .map(|(mods, h)| match h {
                    Ok(h) => h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)),
                    // No thread to be had: this share is done here.
                    Err(_) => evaluate_share(prog, sources, options, emit, mods),
                })
                .collect()
        });
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
            cx.used_factories.extend(share.used_factories);
            cx.used_templates.extend(share.used_templates);
            cx.used_callbacks.extend(share.used_callbacks);
            cx.placed_kinds.extend(share.placed_kinds);
            check_ids(&mut cx, share.ids);
        }
    }
    // A factory no dag uses is still checked, with its defaults and unknown arguments.
    for f in 0..prog.factories.len() {
        if !cx.used_factories.contains(&f) && prog.factories[f].module != prog.std_module {
            cx.check_unused_factory(f);
        }
    }
    for t in 0..prog.templates.len() {
        if !cx.used_templates.contains(&t) && prog.templates[t].module != prog.std_module {
            cx.check_unused_template(t);
        }
    }
    for c in 0..prog.callbacks.len() {
        if !cx.used_callbacks.contains(&c) && prog.callbacks[c].module != prog.std_module {
            cx.check_unused_callback(c);
        }
    }
    cx.check_all_instances();
    cx.check_other_profiles();
    crate::scopes::check(&cx.facts, &cx.asset_decls, cx.diags);
    cx.project
}

/// The user modules in import order, split for the available cores when the project
/// is large enough to gain from it.
fn split_modules(prog: &Program) -> Vec<Vec<usize>> {
    let modules: Vec<usize> = prog
        .order
        .iter()
        .copied()
        .filter(|&m| m != prog.std_module)
        .collect();
    let weight = |m: &usize| prog.modules[*m].ast.items.len();
    let total: usize = modules.iter().map(weight).sum();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    if cores < 2 || total < 2_000 || modules.len() < 2 {
        return vec![modules];
    }
    let per_share = total.div_ceil(cores);
    let mut shares: Vec<Vec<usize>> = vec![Vec::new()];
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
    modules: &[usize],
) -> Share {
    let mut diags = Diagnostics::new();
    let mut cx = Cx::new(prog, sources, options, emit, &mut diags);
    // Globals first (assets and top-level lets, in import order), then the DAGs.
    for &m in &prog.order {
        cx.globals_of(m);
    }
    cx.make_dags(modules);
    let (project, ids) = (std::mem::take(&mut cx.project), std::mem::take(&mut cx.ids));
    let made_as = std::mem::take(&mut cx.made_as);
    let facts = std::mem::take(&mut cx.facts);
    let used = (
        std::mem::take(&mut cx.used_factories),
        std::mem::take(&mut cx.used_templates),
        std::mem::take(&mut cx.used_callbacks),
        std::mem::take(&mut cx.placed_kinds),
    );
    drop(cx);
    Share {
        project,
        facts,
        diags,
        made_as,
        ids,
        used_factories: used.0,
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
    }))
}

struct Cx<'a> {
    prog: &'a Program,
    /// Declared assets by URI, for the producer check.
    asset_decls: HashMap<String, crate::scopes::AssetDecl>,
    sources: &'a Sources,
    options: &'a Options,
    /// What each dag becomes once made, when the caller turns them into files now.
    emit: Option<&'a crate::Emit<'a>>,
    /// What the checks across the project need of every dag made.
    facts: Vec<crate::scopes::Facts>,
    diags: &'a mut Diagnostics,
    globals: Vec<HashMap<String, Value>>,
    steps: u64,
    depth: u32,
    limit_reported: bool,
    /// While a factory body runs: the instantiation, and a label saying so.
    making: Option<(Span, String)>,
    /// Factories at least one dag was made from.
    used_factories: std::collections::HashSet<usize>,
    /// Templates and callbacks something used (the others are checked on their own).
    used_templates: std::collections::HashSet<usize>,
    used_callbacks: std::collections::HashSet<usize>,
    /// In an `after` block: what `roots()` and `leaves()` return.
    after_ctx: Option<(Vec<usize>, Vec<usize>)>,
    /// Every tenant, by declaration.
    instances: Vec<InstanceState>,
    /// Kinds at least one dag was placed in (the others' policies are checked alone).
    placed_kinds: std::collections::HashSet<usize>,
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
    dag_args: Rc<RecordTy>,
    /// Whether each file (by id) holds config data: values from there keep pointing
    /// there when a name, a field or an index reads them.
    config_file: Vec<bool>,
    /// Where the value a name, field or index just read was written, when that is in a
    /// config file (taken by `expr`).
    data_span: Option<Span>,
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
            globals: vec![HashMap::new(); prog.modules.len()],
            steps: 0,
            depth: 0,
            limit_reported: false,
            making: None,
            made: Default::default(),
            made_as: HashMap::new(),
            used_factories: Default::default(),
            used_templates: Default::default(),
            used_callbacks: Default::default(),
            after_ctx: None,
            mixin_applications: 0,
            instances: vec![InstanceState::Pending; prog.instances.len()],
            asset_decls: HashMap::new(),
            placed_kinds: Default::default(),
            mixin_uses: Vec::new(),
            ids: Vec::new(),
            project: dagf_ir::Project::default(),
            task_args: std_record(prog, "TaskArgs"),
            sensor_args: std_record(prog, "SensorArgs"),
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
        }
    }

    /// Remembers where a value just read was written, if that is in a config file.
    fn read_data(&mut self, v: &Value) {
        self.data_span = self.read_from_config(v.span).then_some(v.span);
    }

    fn err(&mut self, d: Diagnostic) {
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

    // ---- globals -------------------------------------------------------------------

    fn globals_of(&mut self, m: usize) {
        let prog = self.prog;
        for item in &prog.modules[m].ast.items {
            match item {
                ast::Item::Asset(a) => {
                    let mut env = Env::new();
                    let uri = self.expr(m, &mut env, &a.uri, None);
                    if let V::Str(s) = &uri.v {
                        self.asset_decls
                            .entry(s.to_string())
                            .or_insert(crate::scopes::AssetDecl {
                                span: a.name.span,
                                is_extern: a.is_extern,
                            });
                    }
                    let v = match &uri.v {
                        V::Str(s) if !s.is_empty() => V::Asset(Rc::new(Asset {
                            name: a.name.name.clone(),
                            uri: s.to_string(),
                        })),
                        V::Error => V::Error,
                        _ => {
                            self.err(
                                Diagnostic::at(
                                    Code::E0201,
                                    a.uri.span,
                                    "an asset is named by a non-empty URI string",
                                    format!("found {}", uri.kind()),
                                )
                                .with_help("write `asset name = \"s3://bucket/path\"`"),
                            );
                            V::Error
                        }
                    };
                    self.globals[m].insert(a.name.name.clone(), Value::new(v, a.name.span));
                }
                ast::Item::Stmt(Stmt::Let { name, value, .. }) => {
                    let mut env = Env::new();
                    let v = self.expr(m, &mut env, value, None);
                    self.globals[m].insert(name.name.clone(), v);
                }
                ast::Item::Source(src) => {
                    let v = self.config_source(m, src);
                    self.globals[m].insert(src.name.name.clone(), v);
                }
                _ => {}
            }
        }
    }

    // ---- top level ----------------------------------------------------------------

    fn top_stmt(&mut self, m: usize, env: &mut Env, stmt: &Stmt) {
        match stmt {
            Stmt::Let { name, value, .. } => {
                let v = self.expr(m, env, value, None);
                env.push((Rc::from(name.name.as_str()), v));
            }
            Stmt::For { var, iter, body, .. } => {
                let items = self.iterable(m, env, iter, None);
                for item in items {
                    if !self.tick(iter.span) {
                        break;
                    }
                    let mark = env.len();
                    env.push((Rc::from(var.name.as_str()), item));
                    for s in body {
                        self.top_stmt(m, env, s);
                    }
                    env.truncate(mark);
                }
            }
            Stmt::If { cond, then, otherwise, .. } => {
                let branch = match self.condition(m, env, cond, None) {
                    Some(true) => then,
                    Some(false) => otherwise,
                    None => return,
                };
                let mark = env.len();
                for s in branch {
                    self.top_stmt(m, env, s);
                }
                env.truncate(mark);
            }
            Stmt::Decl(d) if d.kind == DeclKind::Dag => self.dag_decl(m, env, d),
            Stmt::Error(_) => {}
            other => self.not_here(other.span(), "at the top level of a file", "top-level statements are `dag`, `let`, `for` and `if`; fields, tasks and dependencies go inside a `dag` or `factory` body"),
        }
    }

    /// A config source's data: every document of every file, checked against the
    /// source's type. A `list<T>` collects the documents (a document that is a list
    /// gives its items); any other type takes exactly one document.
    fn config_source(&mut self, m: usize, src: &ast::SourceDecl) -> Value {
        let at = src.name.span;
        let Some(BindingKind::Source(i)) = self.prog.modules[m]
            .scope
            .get(&src.name.name)
            .map(|b| b.kind.clone())
        else {
            return Value::error(at);
        };
        let info = &self.prog.sources[i];
        let (ty, files, complete) = (info.ty.clone(), info.files.clone(), info.complete);
        if !complete || files.is_empty() {
            return Value::error(at);
        }
        let format = match src.format.name.as_str() {
            "yaml" => "yaml",
            _ => "json", // files, rows and answers
        };
        let from_files = matches!(self.prog.sources[i].origin, crate::sources::Origin::Files);
        let mut docs = Vec::new();
        let mut ok = true;
        let mut bases =
            crate::documents::Inheritance::new(self.sources, &self.prog.config_files, format);
        for f in files {
            let text = &self.sources.get(f).text;
            match crate::config::parse(format, text, f) {
                // Only files extend base documents: rows and answers are data as they are.
                Ok(d) if !from_files => docs.extend(d),
                Ok(d) => {
                    for doc in d {
                        match bases.resolve(doc) {
                            Some(doc) => docs.push(doc),
                            // Reported, here or where its base was read.
                            None => ok = false,
                        }
                    }
                }
                Err(d) => {
                    ok = false;
                    self.err(*d);
                }
            }
        }
        ok &= bases.diags.is_empty();
        for d in std::mem::take(&mut bases.diags) {
            self.err(d);
        }
        // Rows and answers are one document: kept to say where in it a mistake is.
        let data = docs.first().cloned();
        // The files that parsed are checked too: every mistake in one run.
        let mark = self.diags.len();
        let decl = Some(src.ty.span);
        let value = match &ty {
            Ty::List(inner) => {
                let mut items = Vec::new();
                for doc in docs {
                    match doc.v {
                        V::List(xs) => items.extend(xs.iter().cloned()),
                        _ => items.push(doc),
                    }
                }
                // A wrong item is reported and left out; the others still make their
                // dags, so their mistakes are found in the same run (the build fails
                // all the same).
                let items: Vec<Value> = items
                    .into_iter()
                    .map(|x| self.coerce(x, inner, decl))
                    .filter(|x| !x.is_error())
                    .collect();
                Value::new(V::List(Rc::new(items)), at)
            }
            _ if !ok => Value::error(at),
            _ => {
                match <[Value; 1]>::try_from(docs) {
                    Ok([doc]) => self.coerce(doc, &ty, decl),
                    Err(docs) => {
                        let args = src.args.first().map_or(src.args_span, |a| a.span);
                        self.err(
                        Diagnostic::at(
                            Code::E0501,
                            args,
                            format!("`{}` takes one document, and its files hold {}", src.name.name, docs.len()),
                            "these files",
                        )
                        .with_label(src.ty.span, "one value of this type")
                        .with_help("declare the source as a list (`list<T>`) to read several documents"),
                    );
                        Value::error(at)
                    }
                }
            }
        };
        if let Some(data) = data {
            self.say_where_in_data(i, &data, mark);
        }
        value
    }

    /// Adds to the diagnostics from `mark` on that point into a query's rows or an HTTP
    /// answer which row and column, or which JSON path, they are about.
    fn say_where_in_data(&mut self, source: usize, data: &Value, mark: usize) {
        let info = &self.prog.sources[source];
        if matches!(info.origin, crate::sources::Origin::Files) || self.diags.len() == mark {
            return;
        }
        let file = data.span.file;
        for mut d in self.diags.take_from(mark) {
            let place = d
                .primary
                .as_ref()
                .filter(|l| l.span.file == file)
                .map(|l| crate::config::path_to(data, l.span, &self.sources.get(file).text));
            if let Some(path) = place {
                d = d.with_note(crate::sources::describe(&info.origin, &path));
                if let Some(help) = crate::sources::row_help(&info.origin, &d) {
                    d.help = Some(help);
                }
            }
            self.diags.push(d);
        }
    }

    /// Where the key of a config value is written: just before the value in its file
    /// (`key: value`, `"key": value`); the value itself when it cannot be found.
    fn key_span(&self, key: &str, value: Span) -> Span {
        if !self.read_from_config(value) {
            return value;
        }
        crate::config::key_before(&self.sources.get(value.file).text, key, value).unwrap_or(value)
    }

    /// Whether a value was read from a config file (where durations are strings).
    fn read_from_config(&self, span: Span) -> bool {
        self.config_file
            .get(span.file.0 as usize)
            .copied()
            .unwrap_or(false)
    }

    /// Adds `key = v` to a record being built; a key already there is E0211.
    fn record_entry(
        &mut self,
        out: &mut Vec<(Rc<str>, Value)>,
        key: Rc<str>,
        at: Span,
        v: Value,
        help: &str,
    ) {
        match out.iter().find(|(n, _)| *n == key) {
            Some((_, prev)) => {
                let first = prev.span;
                self.err(set_twice(
                    &format!("`{key}` is set twice in one record"),
                    at,
                    first,
                    help,
                ));
            }
            None => out.push((key, v)),
        }
    }

    /// Runs the top-level statements of `modules` (globals already evaluated): makes
    /// their dags.
    fn make_dags(&mut self, modules: &[usize]) {
        let prog = self.prog;
        for &m in modules {
            let mut env = Env::new();
            for item in &prog.modules[m].ast.items {
                if let ast::Item::Stmt(stmt) = item
                    && !matches!(stmt, Stmt::Let { .. })
                {
                    self.top_stmt(m, &mut env, stmt);
                }
            }
        }
    }

    /// Sets a field of the dag, one of its tasks or one of its groups, by the merge
    /// rules; a conflict goes through `err`, so it also says which dag it is in.
    #[allow(clippy::too_many_arguments)]
    fn put(
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
    fn only_dags_in_tenants(&mut self, d: &ast::Decl) {
        if let Some(scope) = &d.scope {
            self.not_here(
                scope.span,
                "on a task or group",
                "`in TENANT` places a whole dag: write it on the `dag` declaration",
            );
        }
    }

    fn not_here(&mut self, span: Span, place: &str, help: &str) {
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

    fn dag_decl(&mut self, m: usize, env: &mut Env, d: &ast::Decl) {
        let Some((mut dag_id, name_span)) = self.name_of(m, env, &d.name, None) else {
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
            }
        }
        let mut dag = DagB::new(dag_id, d.span, name_span, false);
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
                    self.run_factory(f, bound, &mut dag, Layer::Factory, &mut vec![f]);
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
            dag.slots.push(Slot {
                history: Vec::new(),
                name: Rc::from("doc"),
                value,
                layer: Layer::Factory,
                span: d.span,
            });
        }
        self.apply_policy(&mut dag);
        self.apply_profile(&mut dag);
        self.finish(dag);
    }

    // ---- bodies ---------------------------------------------------------------------

    fn body(&mut self, m: usize, env: &mut Env, stmts: &[Stmt], dag: &mut DagB, scope: Scope) {
        for s in stmts {
            if !self.tick(s.span()) {
                return;
            }
            self.stmt(m, env, s, dag, scope);
        }
    }

    fn stmt(&mut self, m: usize, env: &mut Env, s: &Stmt, dag: &mut DagB, scope: Scope) {
        match s {
            Stmt::Let { name, value, .. } => {
                let v = self.expr(m, env, value, Some(dag));
                env.push((Rc::from(name.name.as_str()), v));
            }
            Stmt::For {
                var, iter, body, ..
            } => {
                let items = self.iterable(m, env, iter, Some(dag));
                for item in items {
                    let mark = env.len();
                    env.push((Rc::from(var.name.as_str()), item));
                    self.body(m, env, body, dag, scope);
                    env.truncate(mark);
                }
            }
            Stmt::If {
                cond,
                then,
                otherwise,
                ..
            } => {
                let branch = match self.condition(m, env, cond, Some(dag)) {
                    Some(true) => then,
                    Some(false) => otherwise,
                    None => return,
                };
                let mark = env.len();
                self.body(m, env, branch, dag, scope);
                env.truncate(mark);
            }
            Stmt::Field {
                is_override,
                name,
                append,
                value,
                span,
            } => {
                let v = self.expr(m, env, value, Some(dag));
                match scope {
                    Scope::Dag => self.dag_field(dag, name, v, *append, *is_override, *span),
                    Scope::Group(g) => {
                        self.group_field(dag, g, name, v, *append, *is_override, *span)
                    }
                    // For a task, `default_args { ... }` (from a mixin made for dags) sets the
                    // task's own arguments.
                    Scope::Task(t) if name.name == "default_args" && !*append => match &v.v {
                        V::Record(fields) => {
                            for (k, x) in fields.iter() {
                                let key = ast::Ident {
                                    name: k.to_string(),
                                    span: x.span,
                                };
                                self.task_field(
                                    dag,
                                    t,
                                    &key,
                                    x.clone(),
                                    false,
                                    *is_override,
                                    *span,
                                );
                            }
                        }
                        V::Error => {}
                        _ => self.task_field(dag, t, name, v, *append, *is_override, *span),
                    },
                    Scope::Task(t) => {
                        self.task_field(dag, t, name, v, *append, *is_override, *span)
                    }
                }
            }
            Stmt::Decl(d) if d.is_abstract => self.abstract_decl(m, env, d, dag, scope),
            Stmt::After { body, span } => {
                // Not in an `after` block itself: the graph is finished by then.
                if matches!(dag.layer, Layer::Mixin(_))
                    && scope == Scope::Dag
                    && self.after_ctx.is_none()
                {
                    dag.afters.push(After {
                        module: m,
                        env: env.clone(),
                        body: body.clone(),
                        layer: dag.layer,
                        own: 0..0,
                    });
                } else {
                    self.not_here(
                        *span,
                        "here",
                        "`after { ... }` goes at the top of a mixin applied to a factory or a dag, not inside another `after`",
                    );
                }
            }
            Stmt::Decl(d) if !matches!(scope, Scope::Task(_)) && d.kind == DeclKind::Task => {
                self.task_decl(m, env, d, dag);
            }
            Stmt::Decl(d) if !matches!(scope, Scope::Task(_)) && d.kind == DeclKind::Group => {
                self.group_decl(m, env, d, dag);
            }
            Stmt::Deps { first, rest, .. } if !matches!(scope, Scope::Task(_)) => {
                self.deps(m, env, first, rest, dag)
            }
            Stmt::Error(_) => {}
            other => {
                let (place, help) = match scope {
                    Scope::Dag => (
                        "in a dag body",
                        "a dag body holds fields, `task` and `group` declarations, dependencies, `let`, `for` and `if`",
                    ),
                    Scope::Group(_) => (
                        "in a task group",
                        "a task group holds `tooltip`, `task` and `group` declarations, dependencies, `let`, `for` and `if`",
                    ),
                    Scope::Task(_) => (
                        "in a task body",
                        "a task body holds the operator's fields, `let` and `if`",
                    ),
                };
                self.not_here(other.span(), place, help);
            }
        }
    }

    fn dag_field(
        &mut self,
        dag: &mut DagB,
        name: &ast::Ident,
        v: Value,
        append: bool,
        is_override: bool,
        span: Span,
    ) {
        let rec = self.dag_args.clone();
        let Some(field) = rec.field(&name.name) else {
            let hint = self.task_args.field(&name.name).is_some().then(|| {
                format!(
                    "`{0}` is a task argument: set it for every task with `default_args {{ {0} = ... }}`",
                    name.name
                )
            });
            self.unknown_field(
                name,
                "dag",
                rec.fields.iter().map(|f| f.name.as_str()).collect(),
                hint,
            );
            return;
        };
        let v = self.coerce(v, &field.ty, Some(field.span));
        self.put(dag, Slots::Dag, &name.name, v, append, is_override, span);
    }

    #[allow(clippy::too_many_arguments)]
    fn task_field(
        &mut self,
        dag: &mut DagB,
        t: usize,
        name: &ast::Ident,
        v: Value,
        append: bool,
        is_override: bool,
        span: Span,
    ) {
        let op = dag.tasks[t].op;
        let Some(field) = self.task_field_ty(op, &name.name) else {
            let prog = self.prog;
            let (task_args, sensor_args) = (self.task_args.clone(), self.sensor_args.clone());
            let names = task_field_names(prog, &task_args, &sensor_args, op);
            let opname = prog.operators[op].name.clone();
            let hint = (!prog.operators[op].is_sensor && sensor_args.field(&name.name).is_some())
                .then(|| {
                    format!(
                        "`{}` is a sensor argument, and `{opname}` is not a sensor",
                        name.name
                    )
                });
            if let Some(m) = dagf_diag::did_you_mean(&name.name, names.iter().copied()) {
                dag.tasks[t].meant.push(m.to_string());
            }
            self.unknown_field(name, &format!("`{opname}` task"), names, hint);
            return;
        };
        let v = self.coerce(v, &field.ty, Some(field.span));
        self.put(
            dag,
            Slots::Task(t),
            &name.name,
            v,
            append,
            is_override,
            span,
        );
    }

    fn unknown_field(
        &mut self,
        name: &ast::Ident,
        what: &str,
        candidates: Vec<&str>,
        hint: Option<String>,
    ) {
        let d = Diagnostic::at(
            Code::E0203,
            name.span,
            format!("a {what} has no field `{}`", name.name),
            "unknown field",
        );
        let d = match hint {
            Some(h) => d.with_help(h),
            None => d
                .with_suggestion(&name.name, candidates.iter().copied())
                .or_help("remove it, or use one of the known fields"),
        };
        self.err(d.with_note(format!("known fields: {}", abbreviate(&candidates))));
    }

    /// The declared field of an operator: its own, then the task arguments, then the sensor ones.
    fn task_field_ty(&self, op: usize, name: &str) -> Option<FieldTy> {
        let info = &self.prog.operators[op];
        info.fields
            .iter()
            .find(|f| f.name == name)
            .or_else(|| self.task_args.field(name))
            .or_else(|| {
                if info.is_sensor {
                    self.sensor_args.field(name)
                } else {
                    None
                }
            })
            .cloned()
    }

    fn task_decl(
        &mut self,
        m: usize,
        env: &mut Env,
        d: &ast::Decl,
        dag: &mut DagB,
    ) -> Option<usize> {
        self.only_dags_in_tenants(d);
        let (id, name_span) = self.name_of(m, env, &d.name, Some(dag))?;
        let Some(target) = &d.target else {
            dag.failed.push(id.clone());
            self.err(
                Diagnostic::at(
                    Code::E0208,
                    d.name.span,
                    format!("task `{id}` has no operator"),
                    "needs `: operator`",
                )
                .with_help(format!(
                    "write `task {id}: empty` or name another operator, such as `bash` or `python`"
                )),
            );
            return None;
        };
        let callee = self.expr(m, env, target, Some(dag));
        let template = match callee.v {
            V::Item(Item::Template(tid)) => Some(tid),
            _ => None,
        };
        let base = match template {
            Some(tid) => self
                .template_base(tid, target.span)
                .map_or(V::Error, |op| V::Item(Item::Operator(op))),
            None => callee.v.clone(),
        };
        let op = match base {
            V::Item(Item::Operator(op)) => op,
            V::Error => {
                dag.failed.push(id);
                return None;
            }
            _ => {
                dag.failed.push(id);
                self.err(
                    Diagnostic::at(Code::E0208, target.span, format!("a task is made from an operator, not from {}", a_kind(&callee)), "not an operator")
                        .with_help("name an operator such as `bash`, `python` or `empty`, or declare one with `operator`"),
                );
                return None;
            }
        };
        let replaces = match dag.names(dag.scope).get(&id) {
            Some(&Node::Task(prev)) if d.is_override => Some(prev),
            _ => None,
        };
        if d.is_override && replaces.is_none() {
            self.err(
                Diagnostic::at(
                    Code::E0213,
                    d.name.span,
                    format!("`override task {id}` replaces nothing"),
                    "no earlier layer declares this task",
                )
                .with_help("remove `override`: this declares a new task"),
            );
            return None;
        }
        if let (Some(&prev), None) = (dag.names(dag.scope).get(&id), replaces) {
            let prev_span = dag.node_span(prev);
            self.err(
                declared_again(
                    Code::E0301,
                    name_span,
                    prev_span,
                    format!("task id `{id}` is used twice in {}", dag.what()),
                )
                .with_help(format!("task ids must be unique within a DAG: rename one, or write `override task {id}: ...` to replace a task a template, parent factory or factory declared")),
            );
            return None;
        }
        let task = TaskB {
            id: format!("{}{id}", dag.prefix()),
            group: dag.scope,
            local: id.clone(),
            op,
            slots: Vec::new(),
            span: d.span,
            name_span,
            incomplete: d.body.iter().flatten().any(|s| matches!(s, Stmt::Error(_))),
            meant: Vec::new(),
        };
        // `override task` keeps the replaced task's place (and the dependencies on it).
        let t = match replaces {
            Some(prev) => {
                dag.tasks[prev] = task;
                prev
            }
            None => {
                dag.tasks.push(task);
                dag.tasks.len() - 1
            }
        };
        let scope = dag.scope;
        dag.names_mut(scope).insert(id, Node::Task(t));
        if let Some(tid) = template {
            // The arguments go to the template's parameters; its body (and its parents')
            // set the fields, each a layer below the task's own body.
            let info = &self.prog.templates[tid];
            let (params, name) = (info.params.clone(), info.decl.name.name.clone());
            let args = d.args.clone().unwrap_or_default();
            match self.bind_args(m, env, &params, &args, target.span, &name) {
                Some(tenv) => self.apply_template(tid, tenv, dag, t),
                // The template set nothing: a field it would have set is not also "missing".
                None => dag.tasks[t].incomplete = true,
            }
        }
        // `task t: ... with m { ... }`: the mixins' fields, a layer below the task's body.
        self.apply_mixins(&d.mixins, m, env, dag, Scope::Task(t));
        if template.is_none() {
            self.operator_args(m, env, d.args.as_deref().unwrap_or_default(), dag, t);
        }
        if let Some(body) = &d.body {
            let mark = env.len();
            self.body(m, env, body, dag, Scope::Task(t));
            env.truncate(mark);
        }
        Some(t)
    }

    fn deps(
        &mut self,
        m: usize,
        env: &mut Env,
        first: &Expr,
        rest: &[(DepOp, Expr)],
        dag: &mut DagB,
    ) {
        let mut prev = self.endpoints(m, env, first, dag);
        let mut prev_span = first.span;
        for (op, e) in rest {
            let next = self.endpoints(m, env, e, dag);
            // Each edge points at its own `a >> b` link of the chain.
            let span = prev_span.to(e.span);
            prev_span = e.span;
            for a in &prev {
                for b in &next {
                    let (up, down) = match op {
                        DepOp::Then => (a, b),
                        DepOp::After => (b, a),
                    };
                    dag.edges
                        .push((up.clone(), down.clone(), span, dag.depth()));
                }
            }
            prev = next;
        }
    }

    /// The tasks an operand of `>>` stands for. A bare name not bound by `let` is a task
    /// id, looked up when the whole body is known (so order of declaration is free).
    fn endpoints(&mut self, m: usize, env: &mut Env, e: &Expr, dag: &mut DagB) -> Vec<Endpoint> {
        match &e.kind {
            ExprKind::Name(n) if !env.iter().any(|(k, _)| &**k == n) => {
                vec![Endpoint::Path(
                    vec![(Rc::from(n.as_str()), e.span)],
                    dag.scope,
                )]
            }
            ExprKind::Field(..)
                if name_path(e).is_some_and(|p| !env.iter().any(|(k, _)| **k == *p[0].0)) =>
            {
                vec![Endpoint::Path(name_path(e).unwrap_or_default(), dag.scope)]
            }
            ExprKind::List(items) => items
                .iter()
                .flat_map(|i| self.endpoints(m, env, i, dag))
                .collect(),
            _ => {
                let v = self.expr(m, env, e, Some(dag));
                self.value_endpoints(&v, dag.scope)
            }
        }
    }

    /// Tasks and groups, and strings naming them (data read from a config file names
    /// its tasks' upstreams by id); a name is looked up when the body is complete.
    fn value_endpoints(&mut self, v: &Value, scope: Option<usize>) -> Vec<Endpoint> {
        match &v.v {
            V::Task(t) => vec![Endpoint::Node(Node::Task(*t))],
            V::Group(g) => vec![Endpoint::Node(Node::Group(*g))],
            V::Str(name) => vec![Endpoint::Path(vec![(name.clone(), v.span)], scope)],
            V::List(items) => items
                .iter()
                .flat_map(|i| self.value_endpoints(i, scope))
                .collect(),
            V::Error => vec![],
            _ => {
                self.err(
                    Diagnostic::at(
                        Code::E0201,
                        v.span,
                        format!("`>>` connects tasks, not {}", a_kind(v)),
                        "not a task",
                    )
                    .with_help("name a task declared in this dag (by name or by a string holding its id), or a list of them"),
                );
                vec![]
            }
        }
    }

    // ---- factories and calls --------------------------------------------------------

    /// Binds call arguments to typed parameters; `None` when an error was reported.
    fn bind_args(
        &mut self,
        m: usize,
        env: &mut Env,
        params: &[FieldTy],
        args: &[ast::Arg],
        call: Span,
        callee: &str,
    ) -> Option<Env> {
        self.bind_rest(m, env, params, &[], args, call, callee)
    }

    /// Binds `args` after the arguments a partial factory already carries (`bound`),
    /// then fills defaults; every parameter must end with a value.
    #[allow(clippy::too_many_arguments)]
    fn bind_rest(
        &mut self,
        m: usize,
        env: &mut Env,
        params: &[FieldTy],
        bound: &[Bound],
        args: &[ast::Arg],
        call: Span,
        callee: &str,
    ) -> Option<Env> {
        let Given {
            slots,
            mut ok,
            out_of_order,
            meant,
        } = self.given_args(m, env, params, bound, args, callee);
        let mut out = Env::new();
        for (p, g) in params.iter().zip(slots) {
            let v = match g {
                Some((v, _)) => v,
                None => match self.default_of(p) {
                    Some(v) => v,
                    None if out_of_order || meant.contains(&p.name) => {
                        ok = false;
                        continue;
                    }
                    None => {
                        ok = false;
                        self.err(missing(
                            call,
                            format!("missing argument `{}` of `{callee}`", p.name),
                            "given",
                            p,
                            format!("pass `{} = ...`, or give the parameter a default", p.name),
                        ));
                        continue;
                    }
                },
            };
            out.push((Rc::from(p.name.as_str()), v));
        }
        ok.then_some(out)
    }

    /// `factory(args)` in an expression: the factory with these arguments given and the
    /// others left for the `dag` that uses it.
    fn partial(
        &mut self,
        m: usize,
        env: &mut Env,
        f: usize,
        bound: &[Bound],
        args: &[ast::Arg],
    ) -> V {
        let prog = self.prog;
        let params = &prog.factories[f].params;
        let callee = &prog.factories[f].decl.name.name;
        let given = self.given_args(m, env, params, bound, args, callee);
        if !given.ok {
            return V::Error;
        }
        let bound = params
            .iter()
            .zip(given.slots)
            .filter_map(|(p, g)| g.map(|(v, at)| (Rc::from(p.name.as_str()), v, at)))
            .collect();
        V::Partial(Rc::new(Partial { factory: f, bound }))
    }

    /// Matches arguments to parameters and checks each value against its type.
    fn given_args(
        &mut self,
        m: usize,
        env: &mut Env,
        params: &[FieldTy],
        bound: &[Bound],
        args: &[ast::Arg],
        callee: &str,
    ) -> Given {
        let mut given: Vec<Option<(Value, Span)>> = vec![None; params.len()];
        for (name, v, at) in bound {
            if let Some(slot) = params.iter().position(|p| *p.name == **name) {
                given[slot] = Some((v.clone(), *at));
            }
        }
        let mut ok = true;
        let mut named_seen = false;
        // After an argument out of order, "missing" would only guess at what was meant.
        let mut out_of_order = false;
        // Parameters a misspelt argument was taken for: not also reported missing.
        let mut meant: Vec<String> = Vec::new();
        for (i, arg) in args.iter().enumerate() {
            let slot = match &arg.name {
                Some(n) => {
                    named_seen = true;
                    match params.iter().position(|p| p.name == n.name) {
                        Some(p) => p,
                        None => {
                            ok = false;
                            meant.extend(
                                dagf_diag::did_you_mean(
                                    &n.name,
                                    params.iter().map(|p| p.name.as_str()),
                                )
                                .map(str::to_string),
                            );
                            self.err(
                                Diagnostic::at(
                                    Code::E0203,
                                    n.span,
                                    format!("`{callee}` has no parameter `{}`", n.name),
                                    "unknown parameter",
                                )
                                .with_suggestion(&n.name, params.iter().map(|p| p.name.as_str()))
                                .or_help("remove it, or pass one of the parameters")
                                .with_note(format!(
                                    "parameters: {}",
                                    abbreviate(
                                        &params.iter().map(|p| p.name.as_str()).collect::<Vec<_>>()
                                    )
                                )),
                            );
                            continue;
                        }
                    }
                }
                None if named_seen => {
                    ok = false;
                    out_of_order = true;
                    self.err(
                        Diagnostic::at(
                            Code::E0203,
                            arg.span,
                            "positional argument after a named one",
                            "give this one a name too",
                        )
                        .with_help("write `name = value`"),
                    );
                    continue;
                }
                None if i < params.len() => i,
                None => {
                    ok = false;
                    self.err(
                        Diagnostic::at(
                            Code::E0203,
                            arg.span,
                            format!(
                                "`{callee}` takes {} argument{}, this is one too many",
                                params.len(),
                                if params.len() == 1 { "" } else { "s" }
                            ),
                            "extra argument",
                        )
                        .with_help("remove it, or pass it by name"),
                    );
                    continue;
                }
            };
            let v = self.expr(m, env, &arg.value, None);
            if let Some((_, prev)) = &given[slot] {
                ok = false;
                self.err(
                    Diagnostic::at(
                        Code::E0207,
                        arg.span,
                        format!("argument `{}` is given twice", params[slot].name),
                        "given again here",
                    )
                    .with_label(*prev, "first given here")
                    .with_help("remove one of them"),
                );
                continue;
            }
            // A wrong value is already reported; binding goes on with it, so the body is
            // still checked (uses of the value stay quiet).
            let v = self.coerce(v, &params[slot].ty, Some(params[slot].span));
            given[slot] = Some((v, arg.span));
        }
        Given {
            slots: given,
            ok,
            out_of_order,
            meant,
        }
    }

    /// A parameter's default value (type-checked), `none` for an optional one, else nothing.
    fn default_of(&mut self, p: &FieldTy) -> Option<Value> {
        match &p.default {
            Some(e) => {
                let mut env = Env::new();
                let v = self.expr(p.module, &mut env, e, None);
                Some(self.coerce(v, &p.ty, Some(p.span)))
            }
            None if p.ty.is_optional() => Some(Value::new(V::None, p.span)),
            None => None,
        }
    }

    // ---- expressions ----------------------------------------------------------------

    /// The string a dag, task or group is named by, and where to point at it: a name
    /// taken whole from a config file (`"${spec.id}"`) points into that file.
    fn name_of(
        &mut self,
        m: usize,
        env: &mut Env,
        e: &Expr,
        dag: Option<&mut DagB>,
    ) -> Option<(String, Span)> {
        if let ExprKind::Str(parts) = &e.kind
            && let [StrPart::Interp(x)] = parts.as_slice()
        {
            let v = self.expr(m, env, x, dag);
            return match (&v.v, display(&v)) {
                (V::Str(s), _) if self.read_from_config(v.span) => Some((s.to_string(), v.span)),
                (_, Some(t)) => Some((t, e.span)),
                (V::Error, _) => None,
                _ => {
                    self.err(
                        Diagnostic::at(
                            Code::E0201,
                            x.span,
                            format!("cannot put {} inside a string", a_kind(&v)),
                            "not text",
                        )
                        .with_help("interpolate a str, number, bool, duration or date"),
                    );
                    None
                }
            };
        }
        let v = self.expr(m, env, e, dag);
        match &v.v {
            V::Str(s) => Some((s.to_string(), e.span)),
            V::Error => None,
            _ => {
                self.err(
                    Diagnostic::at(
                        Code::E0201,
                        e.span,
                        format!("a name must be a string, found {}", v.kind()),
                        "not a string",
                    )
                    .with_help("interpolate it: \"name_${value}\""),
                );
                None
            }
        }
    }

    fn condition(
        &mut self,
        m: usize,
        env: &mut Env,
        e: &Expr,
        dag: Option<&mut DagB>,
    ) -> Option<bool> {
        let v = self.expr(m, env, e, dag);
        match v.v {
            V::Bool(b) => Some(b),
            V::Error => None,
            _ => {
                self.err(
                    Diagnostic::at(
                        Code::E0201,
                        e.span,
                        format!("a condition must be a bool, found {}", v.kind()),
                        "not a bool",
                    )
                    .with_help("compare it: `x == \"value\"`, `len(xs) > 0`"),
                );
                None
            }
        }
    }

    fn iterable(
        &mut self,
        m: usize,
        env: &mut Env,
        e: &Expr,
        dag: Option<&mut DagB>,
    ) -> Vec<Value> {
        let v = self.expr(m, env, e, dag);
        match &v.v {
            V::List(items) => items.to_vec(),
            V::Record(fields) => fields
                .iter()
                .map(|(k, _)| Value::new(V::Str(k.clone()), v.span))
                .collect(),
            // Every tenant of a kind, in declaration order.
            V::Item(Item::Kind(k)) => {
                let k = *k;
                let of_kind: Vec<usize> = (0..self.prog.instances.len())
                    .filter(|&i| self.kind_of(i) == Some(k))
                    .collect();
                of_kind
                    .into_iter()
                    .filter_map(|i| {
                        self.instance(i)?;
                        Some(Value::new(V::Tenant(i), v.span))
                    })
                    .collect()
            }
            V::Error => vec![],
            _ => {
                self.err(
                    Diagnostic::at(
                        Code::E0201,
                        e.span,
                        format!("`for` walks a list, found {}", v.kind()),
                        "not a list",
                    )
                    .with_help("use a list literal, `range(n)` or a list-typed parameter"),
                );
                vec![]
            }
        }
    }

    pub fn expr(&mut self, m: usize, env: &mut Env, e: &Expr, dag: Option<&mut DagB>) -> Value {
        if !self.tick(e.span) {
            return Value::error(e.span);
        }
        self.depth += 1;
        let v = self.expr_inner(m, env, e, dag);
        self.depth -= 1;
        // Data read from a config file keeps pointing where it was written.
        let span = match e.kind {
            ExprKind::Name(_) | ExprKind::Field(..) | ExprKind::Index(..) => {
                self.data_span.take().unwrap_or(e.span)
            }
            _ => e.span,
        };
        Value::new(v, span)
    }

    fn expr_inner(&mut self, m: usize, env: &mut Env, e: &Expr, mut dag: Option<&mut DagB>) -> V {
        match &e.kind {
            ExprKind::None => V::None,
            ExprKind::Bool(b) => V::Bool(*b),
            ExprKind::Int(i) => V::Int(*i),
            ExprKind::Float(f) => V::Float(*f),
            ExprKind::Duration(ms) => V::Duration(*ms),
            ExprKind::Date(d) => V::Date(Date {
                year: d.year,
                month: d.month,
                day: d.day,
            }),
            ExprKind::DateTime(t) => V::DateTime(DateTime {
                date: Date {
                    year: t.date.year,
                    month: t.date.month,
                    day: t.date.day,
                },
                hour: t.hour,
                minute: t.minute,
                second: t.second,
                offset_minutes: t.offset_minutes.unwrap_or(0),
            }),
            ExprKind::Preset(p) => V::Preset(Rc::from(p.as_str())),
            ExprKind::Str(parts) => {
                let mut out = String::new();
                for part in parts {
                    match part {
                        StrPart::Text(t) => out.push_str(t),
                        StrPart::Interp(x) => {
                            let v = self.expr(m, env, x, dag.as_deref_mut());
                            match display(&v) {
                                Some(t) => out.push_str(&t),
                                None if v.is_error() => return V::Error,
                                None => {
                                    self.err(
                                        Diagnostic::at(Code::E0201, x.span, format!("cannot put {} inside a string", a_kind(&v)), "not text")
                                            .with_help("interpolate a str, number, bool, duration or date; use `join(list, \",\")` for lists"),
                                    );
                                    return V::Error;
                                }
                            }
                        }
                    }
                }
                V::Str(Rc::from(out))
            }
            ExprKind::Name(n) => self.name(m, env, n, e.span),
            ExprKind::List(items) => {
                let vs: Vec<Value> = items
                    .iter()
                    .map(|i| self.expr(m, env, i, dag.as_deref_mut()))
                    .collect();
                V::List(Rc::new(vs))
            }
            ExprKind::Comprehension {
                var,
                iter,
                cond,
                body,
                flatten,
            } => {
                let items = self.iterable(m, env, iter, dag.as_deref_mut());
                let mut out = Vec::new();
                for item in items {
                    let mark = env.len();
                    env.push((Rc::from(var.name.as_str()), item));
                    let keep = match cond {
                        Some(c) => self
                            .condition(m, env, c, dag.as_deref_mut())
                            .unwrap_or(false),
                        None => true,
                    };
                    if keep {
                        let v = self.expr(m, env, body, dag.as_deref_mut());
                        match (&v.v, *flatten) {
                            (V::List(xs), true) => out.extend(xs.iter().cloned()),
                            _ => out.push(v),
                        }
                    }
                    env.truncate(mark);
                }
                V::List(Rc::new(out))
            }
            ExprKind::Record(fields) => {
                let mut out: Vec<(Rc<str>, Value)> = Vec::new();
                for (k, x) in fields {
                    let v = self.expr(m, env, x, dag.as_deref_mut());
                    self.record_entry(
                        &mut out,
                        Rc::from(k.name.as_str()),
                        k.span,
                        v,
                        "remove one of them",
                    );
                }
                V::Record(Rc::new(out))
            }
            ExprKind::DynRecord(fields) => {
                let mut out: Vec<(Rc<str>, Value)> = Vec::new();
                for (k, x) in fields {
                    let Some((key, _)) = self.name_of(m, env, k, dag.as_deref_mut()) else {
                        continue;
                    };
                    let v = self.expr(m, env, x, dag.as_deref_mut());
                    let help = "two keys came out the same; make them differ";
                    self.record_entry(&mut out, Rc::from(key.as_str()), k.span, v, help);
                }
                V::Record(Rc::new(out))
            }
            ExprKind::Field(base, f) => {
                let b = self.expr(m, env, base, dag);
                self.field_of(b, f)
            }
            ExprKind::Index(base, idx) => {
                let b = self.expr(m, env, base, dag.as_deref_mut());
                let i = self.expr(m, env, idx, dag);
                self.index(b, i)
            }
            ExprKind::Call(callee, args) => {
                let c = self.expr(m, env, callee, dag.as_deref_mut());
                match c.v {
                    V::Item(Item::Builtin(b)) => self.call_builtin(m, env, b, args, e.span, dag),
                    V::Item(Item::Callback(c)) => self.bind_callback(m, env, c, args, callee.span),
                    V::Error => V::Error,
                    V::Item(Item::Factory(f)) => self.partial(m, env, f, &[], args),
                    V::Partial(p) => self.partial(m, env, p.factory, &p.bound, args),
                    _ => {
                        self.err(Diagnostic::at(Code::E0208, callee.span, format!("{} cannot be called", a_kind(&c)), "not a function").with_help("only built-in functions such as `len` and `join` are called with `(...)`"));
                        V::Error
                    }
                }
            }
            ExprKind::Unary(op, x) => {
                let v = self.expr(m, env, x, dag);
                match (op, &v.v) {
                    (_, V::Error) => V::Error,
                    (UnOp::Neg, V::Int(i)) => V::Int(i.wrapping_neg()),
                    (UnOp::Neg, V::Float(f)) => V::Float(-f),
                    (UnOp::Neg, V::Duration(d)) => V::Duration(-d),
                    (UnOp::Not, V::Bool(b)) => V::Bool(!b),
                    _ => {
                        let sym = if *op == UnOp::Neg { "-" } else { "not" };
                        self.err(
                            Diagnostic::at(
                                Code::E0209,
                                e.span,
                                format!("`{sym}` does not apply to {}", a_kind(&v)),
                                "invalid operand",
                            )
                            .with_help("`-` negates numbers and durations; `not` negates bools"),
                        );
                        V::Error
                    }
                }
            }
            ExprKind::Binary(op, a, b) => {
                if matches!(op, BinOp::And | BinOp::Or) {
                    let Some(l) = self.condition(m, env, a, dag.as_deref_mut()) else {
                        return V::Error;
                    };
                    if (*op == BinOp::And && !l) || (*op == BinOp::Or && l) {
                        return V::Bool(l);
                    }
                    return match self.condition(m, env, b, dag) {
                        Some(r) => V::Bool(r),
                        None => V::Error,
                    };
                }
                let l = self.expr(m, env, a, dag.as_deref_mut());
                let r = self.expr(m, env, b, dag);
                self.binary(*op, l, r, e.span)
            }
            ExprKind::If(c, a, b) => match self.condition(m, env, c, dag.as_deref_mut()) {
                Some(true) => self.expr(m, env, a, dag).v,
                Some(false) => self.expr(m, env, b, dag).v,
                None => V::Error,
            },
            ExprKind::Decl(d) => match (d.kind, dag) {
                (DeclKind::Task, Some(dag)) => match self.task_decl(m, env, d, dag) {
                    Some(t) => V::Task(t),
                    None => V::Error,
                },
                (DeclKind::Group, Some(dag)) => match self.group_decl(m, env, d, dag) {
                    Some(g) => V::Group(g),
                    None => V::Error,
                },
                _ => {
                    self.not_here(
                        e.span,
                        "as a value here",
                        "`let t = task ...` works inside a dag body",
                    );
                    V::Error
                }
            },
            ExprKind::Error => V::Error,
        }
    }

    fn name(&mut self, m: usize, env: &Env, n: &str, span: Span) -> V {
        self.data_span = None;
        if let Some((_, v)) = env.iter().rev().find(|(k, _)| &**k == n) {
            self.read_data(v);
            return v.v.clone();
        }
        if let Some(b) = self.prog.lookup(m, n) {
            let owner = match b.kind {
                BindingKind::Let(owner) => Some(owner),
                BindingKind::Asset(a) => Some(self.prog.assets[a].module),
                _ => None,
            };
            let not_yet = owner.filter(|o| !self.globals[*o].contains_key(n));
            if not_yet.is_some_and(|o| self.prog.in_cycle[o]) {
                // Unset because of an import cycle, which E0102 reported.
                return V::Error;
            }
            if let Some(def) = not_yet.map(|_| b.span) {
                self.err(
                    Diagnostic::at(
                        Code::E0104,
                        span,
                        format!("`{n}` is used before it is defined"),
                        "used here",
                    )
                    .with_label(def, "defined here, later")
                    .with_help(format!(
                        "move `{n}` above its first use; top-level `let`s run in order"
                    )),
                );
                return V::Error;
            }
        }
        if let Some(v) = self.global(m, n) {
            return v;
        }
        if let Some(b) = builtins::lookup(n) {
            return V::Item(Item::Builtin(b));
        }
        if n == "env" {
            return self
                .options
                .env
                .as_deref()
                .map_or(V::None, |e| V::Str(Rc::from(e)));
        }
        if self.prog.modules[m]
            .imports
            .iter()
            .any(|i| i.target.is_none() && i.alias.as_deref() == Some(n))
        {
            // The alias of an import whose file was not found: E0101 said so already.
            return V::Error;
        }
        let mut candidates: Vec<&str> = env.iter().map(|(k, _)| &**k).collect();
        candidates.extend(self.prog.visible_names(m));
        candidates.extend(builtins::ALL.iter().map(|(n, _)| *n));
        candidates.push("env");
        let d = Diagnostic::at(
            Code::E0104,
            span,
            format!("unknown name `{n}`"),
            "not defined",
        )
        .with_suggestion(n, candidates);
        let d = if d.help.is_none() {
            d.with_help("define it with `let`, declare it, or import the file that declares it")
        } else {
            d
        };
        self.err(d);
        V::Error
    }

    /// A module-level name as seen from module `m`.
    fn global(&mut self, m: usize, n: &str) -> Option<V> {
        if let Some(t) = self.prog.alias(m, n) {
            return Some(V::Item(Item::Module(t)));
        }
        let binding = self.prog.lookup(m, n)?.kind.clone();
        Some(match binding {
            BindingKind::Operator(o) => V::Item(Item::Operator(o)),
            BindingKind::Factory(f) => V::Item(Item::Factory(f)),
            BindingKind::Template(t) => V::Item(Item::Template(t)),
            BindingKind::Callback(c) => V::Item(Item::Callback(c)),
            BindingKind::Mixin(x) => V::Item(Item::Mixin(x)),
            BindingKind::Asset(a) => {
                let owner = self.prog.assets[a].module;
                self.globals[owner].get(n).map_or(V::Error, |v| v.v.clone())
            }
            BindingKind::Let(owner) => self.globals[owner].get(n).map_or(V::Error, |v| v.v.clone()),
            BindingKind::Source(i) => {
                let owner = self.prog.sources[i].module;
                self.globals[owner].get(n).map_or(V::Error, |v| v.v.clone())
            }
            BindingKind::Tenant(k) => V::Item(Item::Kind(k)),
            BindingKind::Instance(i) => match self.instance(i) {
                Some(_) => V::Tenant(i),
                None => V::Error,
            },
            BindingKind::Type(_) => {
                return None;
            }
        })
    }

    fn field_of(&mut self, b: Value, f: &ast::Ident) -> V {
        self.data_span = None;
        match &b.v {
            V::Error => V::Error,
            V::Tenant(i) => {
                let Some(inst) = self.instance(*i) else {
                    return V::Error;
                };
                let found = match f.name.as_str() {
                    "name" => Some(V::Str(Rc::from(inst.name.as_str()))),
                    "exports" => Some(V::List(Rc::new(inst.exports.clone()))),
                    other => inst
                        .env
                        .iter()
                        .skip(1)
                        .find(|(k, _)| &**k == other)
                        .map(|(_, v)| v.v.clone()),
                };
                found.unwrap_or_else(|| {
                    let mut names: Vec<&str> = vec!["name", "exports"];
                    names.extend(inst.env.iter().skip(1).map(|(k, _)| &**k));
                    self.err(
                        Diagnostic::at(
                            Code::E0203,
                            f.span,
                            format!("tenant `{}` has no field `{}`", inst.name, f.name),
                            "unknown field",
                        )
                        .with_suggestion(&f.name, names.iter().copied())
                        .or_help("read one of its fields")
                        .with_note(format!("its fields: {}", abbreviate(&names))),
                    );
                    V::Error
                })
            }
            V::Record(fields) => match fields.iter().find(|(k, _)| **k == *f.name) {
                Some((_, v)) => {
                    self.read_data(v);
                    v.v.clone()
                }
                None => {
                    let names: Vec<&str> = fields.iter().map(|(k, _)| &**k).collect();
                    self.err(
                        Diagnostic::at(
                            Code::E0203,
                            f.span,
                            format!("this record has no field `{}`", f.name),
                            "unknown field",
                        )
                        .with_suggestion(&f.name, names.iter().copied())
                        .or_help("read one of the fields it has")
                        .with_note(format!("its fields: {}", abbreviate(&names))),
                    );
                    V::Error
                }
            },
            V::Item(Item::Module(t)) => {
                let t = *t;
                let in_scope = self.prog.modules[t].scope.contains_key(&f.name);
                match in_scope.then(|| self.global(t, &f.name)).flatten() {
                    Some(v) => v,
                    None => {
                        let names: Vec<&str> = self.prog.modules[t]
                            .scope
                            .keys()
                            .map(String::as_str)
                            .collect();
                        self.err(
                            Diagnostic::at(
                                Code::E0104,
                                f.span,
                                format!("`{}` declares no `{}`", self.prog.modules[t].path, f.name),
                                "not declared there",
                            )
                            .with_suggestion(&f.name, names)
                            .or_help("only names declared at the top level of that file can be read through its alias"),
                        );
                        V::Error
                    }
                }
            }
            _ => {
                self.err(
                    Diagnostic::at(
                        Code::E0209,
                        f.span,
                        format!("{} has no fields", a_kind(&b)),
                        "no field here",
                    )
                    .with_help("fields are read from records and imported modules"),
                );
                V::Error
            }
        }
    }

    fn index(&mut self, b: Value, i: Value) -> V {
        self.data_span = None;
        match (&b.v, &i.v) {
            (V::Error, _) | (_, V::Error) => V::Error,
            (V::List(items), V::Int(n)) => {
                let len = items.len() as i64;
                let idx = if *n < 0 { len + n } else { *n };
                match items.get(idx as usize).filter(|_| idx >= 0) {
                    Some(v) => {
                        self.read_data(v);
                        v.v.clone()
                    }
                    None => {
                        self.err(
                            Diagnostic::at(
                                Code::E0204,
                                i.span,
                                format!("index {n} is outside a list of {len}"),
                                "out of range",
                            )
                            .with_help(
                                "indexes run from 0 to len - 1; negative ones count from the end",
                            ),
                        );
                        V::Error
                    }
                }
            }
            (V::Record(fields), V::Str(k)) => match fields.iter().find(|(n, _)| n == k) {
                Some((_, v)) => {
                    self.read_data(v);
                    v.v.clone()
                }
                None => {
                    let names: Vec<&str> = fields.iter().map(|(k, _)| &**k).collect();
                    self.err(
                        Diagnostic::at(
                            Code::E0203,
                            i.span,
                            format!("no key `{k}` here"),
                            "unknown key",
                        )
                        .with_suggestion(k, names.iter().copied())
                        .or_help("use one of its keys")
                        .with_note(format!("keys: {}", abbreviate(&names))),
                    );
                    V::Error
                }
            },
            _ => {
                self.err(
                    Diagnostic::at(
                        Code::E0209,
                        i.span,
                        format!("cannot index {} with {}", a_kind(&b), a_kind(&i)),
                        "invalid index",
                    )
                    .with_help("index lists with an int and records with a str"),
                );
                V::Error
            }
        }
    }

    fn call_builtin(
        &mut self,
        m: usize,
        env: &mut Env,
        b: Builtin,
        args: &[ast::Arg],
        span: Span,
        mut dag: Option<&mut DagB>,
    ) -> V {
        if let Some(named) = args.iter().find_map(|a| a.name.as_ref()) {
            self.err(
                Diagnostic::at(
                    Code::E0203,
                    named.span,
                    format!(
                        "`{}` takes its arguments by position, not by name",
                        b.name()
                    ),
                    "named argument",
                )
                .with_help(format!("drop `{} =`", named.name)),
            );
            return V::Error;
        }
        if matches!(b, Builtin::Roots | Builtin::Leaves) && args.is_empty() {
            if let Some((roots, leaves)) = &self.after_ctx {
                let tasks = if b == Builtin::Roots { roots } else { leaves };
                return V::List(Rc::new(
                    tasks
                        .iter()
                        .map(|&t| Value::new(V::Task(t), span))
                        .collect(),
                ));
            }
            self.err(
                Diagnostic::at(Code::E0106, span, format!("`{}()` is only available in a mixin's `after` block", b.name()), "not in an `after` block")
                    .with_help("the DAG's first and last tasks are known once every body has run: use them in `after { ... }`"),
            );
            return V::Error;
        }
        let (lo, hi) = b.arity();
        if args.len() < lo || args.len() > hi {
            let expected = if lo == hi {
                format!("{lo}")
            } else {
                format!("{lo} or {hi}")
            };
            self.err(
                Diagnostic::at(
                    Code::E0202,
                    span,
                    format!(
                        "`{}` takes {expected} argument{}, {} given",
                        b.name(),
                        if hi == 1 { "" } else { "s" },
                        args.len()
                    ),
                    "wrong number of arguments",
                )
                .with_help("see the built-in functions in the language reference"),
            );
            return V::Error;
        }
        let vals: Vec<Value> = args
            .iter()
            .map(|a| self.expr(m, env, &a.value, dag.as_deref_mut()))
            .collect();
        if vals.iter().any(Value::is_error) {
            return V::Error;
        }
        match builtins::call(b, &vals, &self.options.env_vars) {
            Ok(v) => v,
            Err((i, msg)) => {
                let code = if msg.contains("over the limit") {
                    Code::E0210
                } else {
                    Code::E0201
                };
                self.err(
                    Diagnostic::at(
                        code,
                        vals[i].span,
                        format!("`{}`: {msg}", b.name()),
                        "this argument",
                    )
                    .with_help(if code == Code::E0210 {
                        "a DAG this large is most likely a mistake; use a smaller range".to_string()
                    } else {
                        format!("see `{}` in the language reference", b.name())
                    }),
                );
                V::Error
            }
        }
    }

    fn binary(&mut self, op: BinOp, l: Value, r: Value, span: Span) -> V {
        use V::*;
        let num = |v: &V| -> Option<f64> {
            match v {
                Int(i) => Some(*i as f64),
                Float(f) => Some(*f),
                _ => Option::None,
            }
        };
        let out = match (op, &l.v, &r.v) {
            (_, Error, _) | (_, _, Error) => return Error,
            (BinOp::Add, Int(a), Int(b)) => a.checked_add(*b).map(Int),
            (BinOp::Sub, Int(a), Int(b)) => a.checked_sub(*b).map(Int),
            (BinOp::Mul, Int(a), Int(b)) => a.checked_mul(*b).map(Int),
            (BinOp::Div, Int(_), Int(0))
            | (BinOp::Div, Float(_), Int(0))
            | (BinOp::Div, Duration(_), Int(0)) => {
                self.err(
                    Diagnostic::at(Code::E0209, r.span, "division by zero", "this is zero")
                        .with_help("divide by a non-zero number"),
                );
                return Error;
            }
            (BinOp::Div, Int(a), Int(b)) => Some(Int(a / b)),
            (BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div, a, b)
                if num(a).is_some() && num(b).is_some() =>
            {
                let (x, y) = (num(a).unwrap_or(0.0), num(b).unwrap_or(0.0));
                Some(Float(match op {
                    BinOp::Add => x + y,
                    BinOp::Sub => x - y,
                    BinOp::Mul => x * y,
                    _ => x / y,
                }))
            }
            (BinOp::Add, Str(a), Str(b)) => Some(Str(Rc::from(format!("{a}{b}")))),
            (BinOp::Add, List(a), List(b)) => {
                Some(List(Rc::new(a.iter().chain(b.iter()).cloned().collect())))
            }
            (BinOp::Add, Duration(a), Duration(b)) => a.checked_add(*b).map(Duration),
            (BinOp::Sub, Duration(a), Duration(b)) => a.checked_sub(*b).map(Duration),
            (BinOp::Mul, Duration(a), Int(b)) | (BinOp::Mul, Int(b), Duration(a)) => {
                a.checked_mul(*b).map(Duration)
            }
            (BinOp::Div, Duration(a), Int(b)) => Some(Duration(a / b)),
            (BinOp::Eq, _, _) => Some(Bool(l.same(&r))),
            (BinOp::Ne, _, _) => Some(Bool(!l.same(&r))),
            (BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge, a, b) if ordered(a, b) => {
                let ord = match (a, b) {
                    (Str(x), Str(y)) => Some(x.cmp(y)),
                    (Duration(x), Duration(y)) => Some(x.cmp(y)),
                    (Date(x), Date(y)) => Some(x.cmp(y)),
                    (DateTime(x), DateTime(y)) => Some(x.cmp(y)),
                    _ => num(a).zip(num(b)).and_then(|(x, y)| x.partial_cmp(&y)),
                };
                ord.map(|o| {
                    Bool(match op {
                        BinOp::Lt => o.is_lt(),
                        BinOp::Le => o.is_le(),
                        BinOp::Gt => o.is_gt(),
                        _ => o.is_ge(),
                    })
                })
            }
            (BinOp::All | BinOp::Any, a, b) if is_asset(a) && is_asset(b) => {
                let mut parts = Vec::new();
                for side in [&l, &r] {
                    match (&side.v, op) {
                        (AssetAll(xs), BinOp::All) | (AssetAny(xs), BinOp::Any) => {
                            parts.extend(xs.iter().cloned())
                        }
                        _ => parts.push(side.clone()),
                    }
                }
                Some(if op == BinOp::All {
                    AssetAll(Rc::new(parts))
                } else {
                    AssetAny(Rc::new(parts))
                })
            }
            _ => {
                let sym = match op {
                    BinOp::Add => "+",
                    BinOp::Sub => "-",
                    BinOp::Mul => "*",
                    BinOp::Div => "/",
                    BinOp::Lt => "<",
                    BinOp::Le => "<=",
                    BinOp::Gt => ">",
                    BinOp::Ge => ">=",
                    BinOp::All => "&",
                    BinOp::Any => "|",
                    _ => "==",
                };
                self.err(
                    Diagnostic::at(Code::E0209, span, format!("`{sym}` does not apply to {} and {}", l.kind(), r.kind()), "invalid operation")
                        .with_label(l.span, l.kind())
                        .with_label(r.span, r.kind())
                        .with_help(match op {
                            BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => {
                                "`<`, `<=`, `>` and `>=` compare two numbers, strings, durations or dates"
                            }
                            BinOp::All | BinOp::Any => "`&` and `|` combine assets",
                            _ => "`+` adds numbers, durations, strings and lists; `-`, `*` and `/` work on numbers and durations",
                        }),
                );
                return Error;
            }
        };
        match out {
            Some(v) => v,
            Option::None => {
                self.err(
                    Diagnostic::at(
                        Code::E0209,
                        span,
                        "arithmetic overflow",
                        "result does not fit in 64 bits",
                    )
                    .with_help("use smaller numbers"),
                );
                Error
            }
        }
    }

    // ---- types ----------------------------------------------------------------------

    /// Checks `v` against `ty`, converting where the type says how (a string to a pyref,
    /// a date to a datetime, a record literal to a record). Reports and returns an error
    /// value on a mismatch. `decl` is where the type was written, shown as a second label.
    pub fn coerce(&mut self, v: Value, ty: &Ty, decl: Option<Span>) -> Value {
        if v.is_error() {
            return v;
        }
        // In a config file a duration is a string: "90s", "1h30m".
        let wants_duration = match ty {
            Ty::Duration => true,
            Ty::Range { base, .. } => matches!(**base, Ty::Duration),
            _ => false,
        };
        let v = match &v.v {
            V::Str(s) if wants_duration && self.read_from_config(v.span) => {
                match dagf_syntax::duration_ms(s) {
                    Some(ms) => Value::new(V::Duration(ms), v.span),
                    None => v,
                }
            }
            _ => v,
        };
        let span = v.span;
        let mismatch = |cx: &mut Self, v: &Value, what: String| {
            let mut d = Diagnostic::at(
                Code::E0201,
                v.span,
                format!("expected {what}, found {}", describe(v)),
                format!("this is {}", a_kind(v)),
            );
            if let Some(decl) = decl {
                d = d.with_label(decl, format!("expected {what} because of this declaration"));
            }
            cx.err(d.with_help(help_for(&what)));
            Value::error(v.span)
        };
        if let Some((accepts, what)) = plain_kind(ty) {
            return if accepts(&v.v) {
                v
            } else {
                mismatch(self, &v, what.into())
            };
        }
        match ty {
            // Handled by `plain_kind` above.
            Ty::Str
            | Ty::Int
            | Ty::Bool
            | Ty::Duration
            | Ty::Date
            | Ty::Asset
            | Ty::Task
            | Ty::Factory => v,
            Ty::Error => v,
            // Anything that becomes a Python value; a factory, a task or a template does not.
            Ty::Any => match not_data(&v) {
                Some(bad) => {
                    let bad = bad.clone();
                    mismatch(self, &bad, "data (a value with a Python form)".into());
                    Value::error(span)
                }
                None => v,
            },
            Ty::Optional(inner) => match v.v {
                V::None => v,
                _ => self.coerce(v, inner, decl),
            },
            Ty::Float => match v.v {
                V::Float(_) => v,
                V::Int(i) => Value::new(V::Float(i as f64), span),
                _ => mismatch(self, &v, "a float".into()),
            },
            Ty::DateTime => match v.v {
                V::DateTime(_) => v,
                V::Date(d) => Value::new(
                    V::DateTime(DateTime {
                        date: d,
                        hour: 0,
                        minute: 0,
                        second: 0,
                        offset_minutes: 0,
                    }),
                    span,
                ),
                _ => mismatch(self, &v, "a datetime".into()),
            },
            Ty::PyRef => match &v.v {
                V::PyRef(_) => v,
                V::Str(s) => {
                    if checks::is_dotted_path(s) {
                        Value::new(V::PyRef(s.clone()), span)
                    } else {
                        self.err(
                            Diagnostic::at(Code::E0201, span, format!("`{s}` is not a dotted Python path"), "expected `module.name`")
                                .with_help("name the callable with its module, such as \"etl.transforms.clean\""),
                        );
                        Value::error(span)
                    }
                }
                _ => mismatch(self, &v, "a pyref (a \"module.name\" string)".into()),
            },
            Ty::TriggerRule => match &v.v {
                V::Str(s) if checks::TRIGGER_RULES.contains(&&**s) => v,
                V::Str(s) => {
                    self.err(
                        Diagnostic::at(
                            Code::E0305,
                            span,
                            format!("`{s}` is not a trigger rule"),
                            "unknown trigger rule",
                        )
                        .with_suggestion(s, checks::TRIGGER_RULES.iter().copied())
                        .or_help("use one of Airflow's trigger rules, such as \"all_success\" or \"none_failed\"")
                        .with_note(format!(
                            "Airflow 3.3's trigger rules: {}",
                            checks::TRIGGER_RULES.join(", ")
                        )),
                    );
                    Value::error(span)
                }
                _ => mismatch(self, &v, "a trigger rule string".into()),
            },
            Ty::Schedule => self.schedule(v, decl),
            Ty::Callbacks => match &v.v {
                V::List(items) => {
                    let items: Vec<Value> = items
                        .iter()
                        .map(|i| self.callback_value(i.clone(), decl))
                        .collect();
                    if items.iter().any(Value::is_error) {
                        return Value::error(span);
                    }
                    Value::new(V::List(Rc::new(items)), span)
                }
                _ => self.callback_value(v, decl),
            },
            Ty::Union(options) => match &v.v {
                V::Str(s) if options.iter().any(|o| **o == **s) => v,
                V::Str(s) => {
                    let list: Vec<String> = options.iter().map(|o| format!("\"{o}\"")).collect();
                    let mut d = Diagnostic::at(
                        Code::E0201,
                        span,
                        format!("`{s}` is not one of {}", list.join(", ")),
                        "not allowed here",
                    )
                    .with_suggestion(s, options.iter().map(String::as_str));
                    if let Some(decl) = decl {
                        d = d.with_label(decl, "the allowed values are declared here");
                    }
                    if d.help.is_none() {
                        d = d.with_help(format!("use one of {}", list.join(", ")));
                    }
                    self.err(d);
                    Value::error(span)
                }
                _ => mismatch(
                    self,
                    &v,
                    format!(
                        "one of {}",
                        options
                            .iter()
                            .map(|o| format!("\"{o}\""))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ),
            },
            Ty::List(inner) => match &v.v {
                V::List(items) => {
                    let items: Vec<Value> = items
                        .iter()
                        .map(|i| self.coerce(i.clone(), inner, decl))
                        .collect();
                    if items.iter().any(Value::is_error) {
                        return Value::error(span);
                    }
                    Value::new(V::List(Rc::new(items)), span)
                }
                _ => mismatch(self, &v, with_article(&ty.to_string())),
            },
            Ty::Map(inner) => match &v.v {
                V::Record(fields) => {
                    let fields: Vec<(Rc<str>, Value)> = fields
                        .iter()
                        .map(|(k, x)| (k.clone(), self.coerce(x.clone(), inner, decl)))
                        .collect();
                    if fields.iter().any(|(_, x)| x.is_error()) {
                        return Value::error(span);
                    }
                    Value::new(V::Record(Rc::new(fields)), span)
                }
                _ => mismatch(self, &v, with_article(&ty.to_string())),
            },
            Ty::Record(rec) => match &v.v {
                V::Record(fields) => self.record(span, fields, rec),
                _ => mismatch(self, &v, with_article(&format!("{ty} record"))),
            },
            Ty::Range {
                base,
                lo,
                hi,
                inclusive,
            } => {
                let v = self.coerce(v, base, decl);
                let n = match v.v {
                    V::Int(i) => i as f64,
                    V::Float(f) => f,
                    V::Duration(ms) => ms as f64,
                    _ => return v,
                };
                let below = lo.is_some_and(|lo| n < lo);
                let above = hi.is_some_and(|hi| if *inclusive { n > hi } else { n >= hi });
                if below || above {
                    let mut d = Diagnostic::at(
                        Code::E0204,
                        span,
                        format!(
                            "{} is outside the allowed range",
                            display(&v).unwrap_or_default()
                        ),
                        format!("must be {}", range_text(base, *lo, *hi, *inclusive)),
                    );
                    if let Some(decl) = decl {
                        d = d.with_label(decl, "the range is declared here");
                    }
                    self.err(d.with_help(format!(
                        "use a value {}",
                        range_text(base, *lo, *hi, *inclusive)
                    )));
                    return Value::error(span);
                }
                v
            }
            Ty::Matches { base, re } => {
                let v = self.coerce(v, base, decl);
                if let V::Str(s) = &v.v
                    && !re.is_match(s)
                {
                    let mut d = Diagnostic::at(
                        Code::E0205,
                        span,
                        format!("\"{s}\" does not match the pattern {:?}", re.as_str()),
                        "does not match",
                    );
                    if let Some(decl) = decl {
                        d = d.with_label(decl, "the pattern is declared here");
                    }
                    self.err(
                        d.with_help(format!("change the value so it matches {:?}", re.as_str())),
                    );
                    return Value::error(span);
                }
                v
            }
        }
    }

    fn record(&mut self, span: Span, fields: &[(Rc<str>, Value)], rec: &RecordTy) -> Value {
        // Each entry with the place of its field in the declaration, which orders them.
        let mut out: Vec<(usize, Rc<str>, Value)> = Vec::with_capacity(rec.fields.len());
        let mut given = vec![false; rec.fields.len()];
        let mut ok = true;
        let mut meant: Vec<String> = Vec::new();
        for (k, x) in fields {
            match rec.fields.iter().position(|f| f.name == **k) {
                Some(i) => {
                    let f = &rec.fields[i];
                    let v = self.coerce(x.clone(), &f.ty, Some(f.span));
                    ok &= !v.is_error();
                    given[i] = true;
                    out.push((i, k.clone(), v));
                }
                None => {
                    ok = false;
                    let names: Vec<&str> = rec.fields.iter().map(|f| f.name.as_str()).collect();
                    let what = rec
                        .name
                        .as_deref()
                        .map_or("this record".to_string(), |n| format!("`{n}`"));
                    // A misspelt field is not also reported missing.
                    if let Some(m) = dagf_diag::did_you_mean(k, names.iter().copied()) {
                        meant.push(m.to_string());
                    }
                    self.err(
                        Diagnostic::at(
                            Code::E0203,
                            self.key_span(k, x.span),
                            format!("{what} has no field `{k}`"),
                            "unknown field",
                        )
                        .with_suggestion(k, names.iter().copied())
                        .or_help("remove it, or use one of the known fields")
                        .with_note(format!("known fields: {}", abbreviate(&names))),
                    );
                }
            }
        }
        for (i, f) in rec.fields.iter().enumerate() {
            if given[i] {
                continue;
            }
            if f.default.is_some() {
                if let Some(v) = self.default_of(f) {
                    out.push((i, Rc::from(f.name.as_str()), Value::new(v.v, span)));
                }
            } else if f.required() {
                ok = false;
                if meant.contains(&f.name) {
                    continue;
                }
                self.err(missing(
                    span,
                    format!("missing field `{}`", f.name),
                    "set",
                    f,
                    format!("add `{} = ...`", f.name),
                ));
            } else {
                // An optional field left out reads as `none` (and is not passed to Airflow).
                out.push((i, Rc::from(f.name.as_str()), Value::new(V::None, span)));
            }
        }
        if !ok {
            return Value::error(span);
        }
        // Keep the declared field order: output does not depend on how the literal was written.
        out.sort_by_key(|(i, _, _)| *i);
        let out: Vec<(Rc<str>, Value)> = out.into_iter().map(|(_, k, v)| (k, v)).collect();
        Value::new(V::Record(Rc::new(out)), span)
    }

    fn schedule(&mut self, v: Value, decl: Option<Span>) -> Value {
        let span = v.span;
        match &v.v {
            V::None | V::Duration(_) | V::Asset(_) | V::AssetAll(_) | V::AssetAny(_) => v,
            V::Preset(p) => self.preset(p, span, v.clone()),
            V::Str(s) if s.starts_with('@') => self.preset(
                &s[1..],
                span,
                Value::new(V::Preset(Rc::from(&s[1..])), span),
            ),
            V::Str(s) => match crate::cron::check(s) {
                Ok(()) => v,
                Err(msg) => {
                    self.err(
                        Diagnostic::at(Code::E0303, span, format!("invalid cron expression \"{s}\""), msg)
                            .with_help("a cron expression reads `minute hour day-of-month month day-of-week`, such as \"0 6 * * 1-5\""),
                    );
                    Value::error(span)
                }
            },
            _ => {
                let mut d = Diagnostic::at(
                    Code::E0201,
                    span,
                    format!("expected a schedule, found {}", describe(&v)),
                    format!("this is {}", a_kind(&v)),
                );
                if let Some(decl) = decl {
                    d = d.with_label(decl, "expected a schedule because of this declaration");
                }
                self.err(d.with_help("a schedule is a preset (@daily), a cron string, a duration (6h), `none`, or assets (a & b)"));
                Value::error(span)
            }
        }
    }

    fn preset(&mut self, p: &str, span: Span, v: Value) -> Value {
        if crate::cron::PRESETS.contains(&p) {
            return v;
        }
        let d = Diagnostic::at(
            Code::E0304,
            span,
            format!("unknown schedule preset `@{p}`"),
            "not a preset",
        )
        .with_suggestion(p, crate::cron::PRESETS.iter().copied())
        .with_note(format!(
            "presets: {}",
            crate::cron::PRESETS
                .iter()
                .map(|p| format!("@{p}"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
        let d = match d.help.take_suggestion() {
            Some(h) => d.with_help(format!("did you mean `@{h}`?")),
            None => d.with_help("use a preset from the list, or a cron string"),
        };
        self.err(d);
        Value::error(span)
    }

    // ---- finishing a DAG ------------------------------------------------------------

    fn finish(&mut self, mut dag: DagB) {
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
                    exports: inst
                        .exports
                        .iter()
                        .filter_map(|v| match &v.v {
                            V::Asset(a) => Some(a.uri.clone()),
                            _ => None,
                        })
                        .collect(),
                });
            }
            self.facts.push(crate::scopes::Facts::of(&d));
            match self.emit {
                Some(emit) => self.project.built.push(emit(d)),
                None => self.project.dags.push(d),
            }
        }
    }

    /// The operator a task template is built on, following parent templates; reports a
    /// group template used for a task and templates that build on themselves.
    fn template_base(&mut self, tid: usize, at: Span) -> Option<usize> {
        let mut seen = vec![tid];
        let mut cur = tid;
        loop {
            let info = &self.prog.templates[cur];
            let (module, decl) = (info.module, info.decl.clone());
            let Some(target) = &decl.target else {
                self.err(
                    Diagnostic::at(
                        Code::E0208,
                        at,
                        format!("`{}` is a group template", decl.name.name),
                        "not a task template",
                    )
                    .with_label(decl.name.span, "declared `: group` here")
                    .with_help(format!(
                        "make a task group with `group NAME: {}(...)`",
                        decl.name.name
                    )),
                );
                return None;
            };
            match self.expr(module, &mut Env::new(), target, None).v {
                V::Item(Item::Operator(op)) => return Some(op),
                V::Item(Item::Template(parent)) if seen.contains(&parent) => {
                    self.err(
                        Diagnostic::at(Code::E0208, target.span, format!("template `{}` builds on itself", decl.name.name), "builds on a template that leads back here")
                            .with_help("a template builds on an operator, or on a template that does not lead back to it"),
                    );
                    return None;
                }
                V::Item(Item::Template(parent)) => {
                    seen.push(parent);
                    cur = parent;
                }
                V::Error => return None,
                other => {
                    let v = Value::new(other, target.span);
                    self.err(
                        Diagnostic::at(Code::E0208, target.span, format!("a task template builds on an operator or a template, not on {}", a_kind(&v)), "not an operator or template")
                            .with_help("write `template NAME(...): bash { ... }`, or `: group` for a task group"),
                    );
                    return None;
                }
            }
        }
    }

    /// Sets a task's fields from a template: its parent first, then its own body.
    fn apply_template(&mut self, tid: usize, mut env: Env, dag: &mut DagB, t: usize) {
        self.used_templates.insert(tid);
        let info = &self.prog.templates[tid];
        let (module, decl) = (info.module, info.decl.clone());
        if let Some(target) = &decl.target {
            match self.expr(module, &mut Env::new(), target, None).v {
                V::Item(Item::Template(parent)) => {
                    let pinfo = &self.prog.templates[parent];
                    let (params, name) = (pinfo.params.clone(), pinfo.decl.name.name.clone());
                    let args = decl.target_args.clone().unwrap_or_default();
                    match self.bind_args(module, &mut env, &params, &args, target.span, &name) {
                        Some(penv) => self.apply_template(parent, penv, dag, t),
                        None => return,
                    }
                }
                _ => {
                    // Built on an operator: arguments after it are its fields.
                    let outer = std::mem::replace(&mut dag.layer, Layer::Template(tid));
                    let args = decl.target_args.clone().unwrap_or_default();
                    self.operator_args(module, &mut env, &args, dag, t);
                    dag.layer = outer;
                }
            }
        }
        self.apply_mixins(&decl.mixins, module, &mut env, dag, Scope::Task(t));
        let outer = std::mem::replace(&mut dag.layer, Layer::Template(tid));
        self.body(module, &mut env, &decl.body, dag, Scope::Task(t));
        dag.layer = outer;
    }

    /// `abstract task NAME` in an abstract factory: a task every concrete child declares.
    fn abstract_decl(
        &mut self,
        m: usize,
        env: &mut Env,
        d: &ast::Decl,
        dag: &mut DagB,
        scope: Scope,
    ) {
        let Some(owner) = dag
            .in_abstract
            .clone()
            .filter(|_| scope == Scope::Dag && d.kind == DeclKind::Task)
        else {
            self.not_here(
                d.span,
                "here",
                "`abstract task NAME` goes at the top of an `abstract factory` body",
            );
            return;
        };
        if d.target.is_some() || d.body.is_some() {
            self.err(
                Diagnostic::at(
                    Code::E0106,
                    d.span,
                    "an abstract task has no operator or body",
                    "declares more than a name",
                )
                .with_help("write `abstract task NAME`; the child factory declares it fully"),
            );
            return;
        }
        if let Some((name, _)) = self.name_of(m, env, &d.name, Some(dag)) {
            dag.abstracts.push((name, d.span, owner));
        }
    }

    /// Applies `with` mixins in order, each its own layer; `m` and `env` are where the
    /// `with` list is written (its arguments are evaluated there).
    fn apply_mixins(
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
    fn run_afters(&mut self, dag: &mut DagB) {
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
    fn run_factory(
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

    /// A callback declaration with arguments bound: its body's fields, evaluated with the
    /// parameters, become the keyword arguments Airflow's callable gets.
    fn bind_callback(
        &mut self,
        m: usize,
        env: &mut Env,
        c: usize,
        args: &[ast::Arg],
        call: Span,
    ) -> V {
        self.used_callbacks.insert(c);
        let info = &self.prog.callbacks[c];
        let (decl, params, module) = (info.decl.clone(), info.params.clone(), info.module);
        let Some(mut cenv) = self.bind_args(m, env, &params, args, call, &decl.name.name) else {
            return V::Error;
        };
        let mut bound: Vec<(Rc<str>, Value)> = Vec::new();
        for s in &decl.body {
            match s {
                Stmt::Field {
                    name,
                    value,
                    append: false,
                    is_override: false,
                    ..
                } => {
                    let v = self.expr(module, &mut cenv, value, None);
                    if v.is_error() {
                        return V::Error;
                    }
                    if bound.iter().any(|(k, _)| **k == *name.name) {
                        self.err(
                            Diagnostic::at(
                                Code::E0211,
                                name.span,
                                format!("`{}` is set twice", name.name),
                                "set again here",
                            )
                            .with_help("set each argument once"),
                        );
                        return V::Error;
                    }
                    bound.push((Rc::from(name.name.as_str()), v));
                }
                Stmt::Let { name, value, .. } => {
                    let v = self.expr(module, &mut cenv, value, None);
                    cenv.push((Rc::from(name.name.as_str()), v));
                }
                Stmt::Error(_) => return V::Error,
                other => {
                    self.not_here(
                        other.span(),
                        "in a callback body",
                        "a callback body holds `name = value` arguments and `let`",
                    );
                    return V::Error;
                }
            }
        }
        V::Callback(Rc::new(Callback {
            kind: decl.kind,
            path: decl.path.clone(),
            args: bound,
        }))
    }

    /// One callback: a declared callback (called or not), or a "module.function" string.
    fn callback_value(&mut self, v: Value, decl: Option<Span>) -> Value {
        let span = v.span;
        match &v.v {
            V::Callback(_) | V::Error => v,
            V::Item(Item::Callback(c)) => {
                let c = *c;
                let out = self.bind_callback(
                    self.prog.callbacks[c].module,
                    &mut Env::new(),
                    c,
                    &[],
                    span,
                );
                Value::new(out, span)
            }
            V::Str(_) => match self.coerce(v, &Ty::PyRef, decl).v {
                V::PyRef(p) => Value::new(
                    V::Callback(Rc::new(Callback {
                        kind: CallbackKind::Python,
                        path: p.to_string(),
                        args: Vec::new(),
                    })),
                    span,
                ),
                _ => Value::error(span),
            },
            _ => {
                let mut d = Diagnostic::at(Code::E0201, span, format!("expected a callback, found {}", describe(&v)), format!("this is {}", a_kind(&v)))
                    .with_help("name a `callback` declaration (`alert(channel = \"#ops\")`), or a \"module.function\" string");
                if let Some(decl) = decl {
                    d = d.with_label(decl, "expected a callback because of this declaration");
                }
                self.err(d);
                Value::error(span)
            }
        }
    }

    /// Arguments given to an operator directly (`bash(bash_command = "x")`): its fields,
    /// by name. A positional one is an error, and leaves the task incomplete.
    fn operator_args(
        &mut self,
        m: usize,
        env: &mut Env,
        args: &[ast::Arg],
        dag: &mut DagB,
        t: usize,
    ) {
        for arg in args {
            let Some(name) = &arg.name else {
                self.err(
                    Diagnostic::at(
                        Code::E0203,
                        arg.span,
                        "operator fields are passed by name",
                        "no field name",
                    )
                    .with_help("write `field = value`"),
                );
                dag.tasks[t].incomplete = true;
                continue;
            };
            let v = self.expr(m, env, &arg.value, Some(dag));
            self.task_field(dag, t, name, v, false, false, arg.span);
        }
    }

    /// Parameter values for checking a declaration nothing uses: defaults where there
    /// are, stand-ins (whose uses are not checked) elsewhere.
    fn stand_ins(&mut self, params: &[FieldTy]) -> Env {
        let mut env = Env::new();
        for p in params {
            let v = if p.default.is_some() {
                self.default_of(p)
            } else {
                None
            };
            env.push((
                Rc::from(p.name.as_str()),
                v.unwrap_or_else(|| Value::error(p.span)),
            ));
        }
        env
    }

    /// A template no task or group uses: its body is evaluated as for a use, so a
    /// misspelt field or a template that builds on itself is still reported. Fields a
    /// task must still set are not asked for: a template may leave them to its tasks.
    fn check_unused_template(&mut self, tid: usize) {
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
    fn check_unused_callback(&mut self, c: usize) {
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
    fn check_unused_factory(&mut self, f: usize) {
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

    /// A dag whose bodies have all run: its `after` blocks, its abstract tasks, its
    /// edges, the DAG checks, and the IR.
    fn check_built(&mut self, dag: &mut DagB) -> Option<dagf_ir::Dag> {
        self.run_afters(dag);
        self.check_abstracts(dag);
        let edges = self.task_edges(dag);
        let namer = self.layer_namer(dag);
        checks::finish(self.ctx(&namer), dag, &edges)
    }

    /// Every `abstract task` of the factories a dag is made from must be declared.
    fn check_abstracts(&mut self, dag: &DagB) {
        let Some((child, child_span)) = dag.made_from.clone() else {
            return;
        };
        for (name, span, owner) in &dag.abstracts {
            if !dag.by_name.contains_key(name) && !dag.failed.contains(name) {
                self.err(
                    Diagnostic::at(
                        Code::E0215,
                        child_span,
                        format!(
                            "`{child}` does not declare the abstract task `{name}` of `{owner}`"
                        ),
                        format!("`{name}` is missing here"),
                    )
                    .with_label(*span, format!("`{owner}` declares `{name}` abstract here"))
                    .with_help(format!(
                        "declare it in `{child}`: `task {name}: OPERATOR {{ ... }}`"
                    )),
                );
            }
        }
    }

    /// The dependencies as edges between tasks. A group stands for its first tasks
    /// downstream of `>>` and its last tasks upstream; bodies nested deepest go first,
    /// so a group's ends are known before an outer dependency uses them.
    fn task_edges(&mut self, dag: &mut DagB) -> Vec<(usize, usize, Span)> {
        let mut declared = std::mem::take(&mut dag.edges);
        declared.sort_by_key(|(_, _, _, depth)| std::cmp::Reverse(*depth));
        let mut edges: Vec<(usize, usize, Span)> = Vec::new();
        for (a, b, span, _) in declared {
            let (Some(a), Some(b)) = (
                self.resolve_endpoint(dag, &a),
                self.resolve_endpoint(dag, &b),
            ) else {
                continue;
            };
            let ups = match a {
                Node::Task(t) => vec![t],
                Node::Group(g) => dag.ends(g, &edges, false),
            };
            let downs = match b {
                Node::Task(t) => vec![t],
                Node::Group(g) => dag.ends(g, &edges, true),
            };
            for &u in &ups {
                for &d in &downs {
                    edges.push((u, d, span));
                }
            }
        }
        edges
    }

    /// Looks a `>>` operand up: a name in the scope it was written in, then in the
    /// scopes around it; each further part of a `group.name` path inside that group.
    fn resolve_endpoint(&mut self, dag: &DagB, e: &Endpoint) -> Option<Node> {
        let (path, scope) = match e {
            Endpoint::Node(n) => return Some(*n),
            Endpoint::Path(path, scope) => (path, *scope),
        };
        let ((first, first_span), rest) = path.split_first()?;
        let mut at = scope;
        let mut node = loop {
            if let Some(n) = dag.names(at).get(&**first) {
                break *n;
            }
            match at {
                Some(g) => at = dag.groups[g].parent,
                None => {
                    let abstract_task = dag.abstracts.iter().any(|(n, _, _)| **n == **first);
                    if !abstract_task && !dag.failed.iter().any(|f| **f == **first) {
                        self.no_such(dag, scope, first, *first_span);
                    }
                    return None;
                }
            }
        };
        for (part, span) in rest {
            let Node::Group(g) = node else {
                self.err(
                    Diagnostic::at(
                        Code::E0209,
                        *span,
                        format!(
                            "`{}` is a task, not a group",
                            dag.tasks[match node {
                                Node::Task(t) => t,
                                Node::Group(_) => 0,
                            }]
                            .local
                        ),
                        "a task has no tasks inside",
                    )
                    .with_help("`group.task` names a task inside a task group"),
                );
                return None;
            };
            match dag.groups[g].names.get(&**part) {
                Some(n) => node = *n,
                None => {
                    self.no_such(dag, Some(g), part, *span);
                    return None;
                }
            }
        }
        Some(node)
    }

    fn no_such(&mut self, dag: &DagB, scope: Option<usize>, name: &str, span: Span) {
        let place = match scope {
            Some(g) => format!("task group `{}` of {}", dag.groups[g].id, dag.what()),
            None => dag.what(),
        };
        let mut names: Vec<&str> = Vec::new();
        let mut at = scope;
        loop {
            names.extend(dag.names(at).keys().map(String::as_str));
            match at {
                Some(g) => at = dag.groups[g].parent,
                None => break,
            }
        }
        let d = Diagnostic::at(
            Code::E0104,
            span,
            format!("{place} has no task or group `{name}`"),
            "no such task",
        )
        .with_suggestion(name, names.iter().copied())
        .or_help(format!("declare it with `task {name}: ...`"));
        self.err(d);
    }

    /// `group NAME: TEMPLATE(args) { body }` or `group NAME { body }`: a TaskGroup.
    fn group_decl(
        &mut self,
        m: usize,
        env: &mut Env,
        d: &ast::Decl,
        dag: &mut DagB,
    ) -> Option<usize> {
        self.only_dags_in_tenants(d);
        let (local, name_span) = self.name_of(m, env, &d.name, Some(dag))?;
        if local.is_empty()
            || !local
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            self.err(
                Diagnostic::at(Code::E0302, name_span, format!("group id `{local}` has characters Airflow rejects"), "invalid group id")
                    .with_help("group ids may hold only ASCII letters, digits, `-` and `_` (no `.`: it separates groups in task ids)"),
            );
            dag.failed.push(local);
            return None;
        }
        if let Some(&prev) = dag.names(dag.scope).get(&local) {
            let prev_span = dag.node_span(prev);
            self.err(
                declared_again(
                    Code::E0301,
                    name_span,
                    prev_span,
                    format!("`{local}` is used twice in {}", dag.what()),
                )
                .with_help("tasks and groups in one body need distinct names; rename one"),
            );
            return None;
        }
        let template = match &d.target {
            None => None,
            Some(target) => match self.expr(m, env, target, Some(dag)).v {
                V::Item(Item::Template(tid)) if self.prog.templates[tid].decl.target.is_none() => {
                    Some((tid, target.span))
                }
                V::Error => {
                    dag.failed.push(local);
                    return None;
                }
                other => {
                    let what = match &other {
                        V::Item(Item::Template(_)) => "a task template".to_string(),
                        _ => a_kind(&Value::new(other.clone(), target.span)),
                    };
                    self.err(
                        Diagnostic::at(Code::E0208, target.span, format!("a task group is made from a group template, not from {what}"), "not a group template")
                            .with_help("declare one with `template NAME(...): group { ... }`, or write the group's body inline: `group NAME { ... }`"),
                    );
                    dag.failed.push(local);
                    return None;
                }
            },
        };
        let g = dag.groups.len();
        let parent = dag.scope;
        dag.groups.push(GroupB {
            local: local.clone(),
            id: format!("{}{local}", dag.prefix()),
            parent,
            name_span,
            slots: Vec::new(),
            order: dag.tasks.len(),
            depth: dag.depth(),
            names: HashMap::new(),
        });
        dag.names_mut(parent).insert(local, Node::Group(g));
        dag.scope = Some(g);
        if let Some((tid, call)) = template {
            let info = &self.prog.templates[tid];
            let (module, decl, params) = (info.module, info.decl.clone(), info.params.clone());
            let args = d.args.clone().unwrap_or_default();
            if let Some(mut tenv) = self.bind_args(m, env, &params, &args, call, &decl.name.name) {
                self.used_templates.insert(tid);
                self.apply_mixins(&decl.mixins, module, &mut tenv, dag, Scope::Group(g));
                let outer = std::mem::replace(&mut dag.layer, Layer::Template(tid));
                self.body(module, &mut tenv, &decl.body, dag, Scope::Group(g));
                dag.layer = outer;
            }
        }
        self.apply_mixins(&d.mixins, m, env, dag, Scope::Group(g));
        if let Some(body) = &d.body {
            let mark = env.len();
            self.body(m, env, body, dag, Scope::Group(g));
            env.truncate(mark);
        }
        dag.scope = parent;
        Some(g)
    }

    #[allow(clippy::too_many_arguments)]
    fn group_field(
        &mut self,
        dag: &mut DagB,
        g: usize,
        name: &ast::Ident,
        v: Value,
        append: bool,
        is_override: bool,
        span: Span,
    ) {
        if append {
            self.err(not_a_list(
                &name.name,
                span,
                format!("write `{} = ...`", name.name),
            ));
            return;
        }
        if name.name != "tooltip" {
            self.unknown_field(name, "task group", vec!["tooltip"], None);
            return;
        }
        let v = self.coerce(v, &Ty::Str, None);
        self.put(
            dag,
            Slots::Group(g),
            &name.name,
            v,
            false,
            is_override,
            span,
        );
    }

    /// Names layers for provenance: which template, parent factory or mixin. Each
    /// name is made once per dag and shared by every field it set.
    fn layer_namer(&self, dag: &DagB) -> impl Fn(Layer) -> std::sync::Arc<str> + use<'a> {
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
        &'b mut self,
        layer_names: &'b dyn Fn(Layer) -> std::sync::Arc<str>,
    ) -> checks::Ctx<'b> {
        checks::Ctx {
            layer_names,
            provenance: !self.options.skip_provenance,
            prog: self.prog,
            sources: self.sources,
            diags: self.diags,
            task_args: &self.task_args,
            sensor_args: &self.sensor_args,
            dag_args: &self.dag_args,
        }
    }
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Scope {
    Dag,
    Group(usize),
    Task(usize),
}

trait TakeSuggestion {
    fn take_suggestion(&self) -> Option<String>;
}

impl TakeSuggestion for Option<String> {
    /// Pulls the name out of a "did you mean `x`?" help line.
    fn take_suggestion(&self) -> Option<String> {
        let h = self.as_deref()?;
        let start = h.find('`')? + 1;
        let end = start + h[start..].find('`')?;
        Some(h[start..end].to_string())
    }
}

/// Sets a named slot following the layer rules: `+=` appends to lists (duplicates
/// dropped), records merge key by key, and a different value from another layer
/// conflicts unless the later layer says `override`.
#[allow(clippy::too_many_arguments)]
fn set_slot(
    slots: &mut Vec<Slot>,
    name: &str,
    value: Value,
    append: bool,
    is_override: bool,
    layer: Layer,
    span: Span,
    layers: &Layers,
    diags: &mut Diagnostics,
) {
    let slot = |value: Value, history: Vec<(Layer, Span)>| Slot {
        name: Rc::from(name),
        value,
        layer,
        span,
        history,
    };
    if value.is_error() {
        // Already reported. Keep the field as set, so that later checks do not also
        // call it missing (a required field, `start` for `catchup`).
        if !slots.iter().any(|s| &*s.name == name) {
            slots.push(slot(value, Vec::new()));
        }
        return;
    }
    let Some(i) = slots.iter().position(|s| &*s.name == name) else {
        if append && !matches!(value.v, V::List(_)) {
            diags.push(not_a_list(name, span, format!("write `{name} = ...`")));
            return;
        }
        // A policy may force a value on every dag, whether or not it set one.
        if is_override && !matches!(layer, Layer::Policy(_) | Layer::Profile(_)) {
            diags.push(
                Diagnostic::at(
                    Code::E0213,
                    span,
                    format!("`override {name}` replaces nothing"),
                    "nothing set this before",
                )
                .with_help(format!("remove `override`: no earlier layer sets `{name}`")),
            );
            return;
        }
        slots.push(slot(value, Vec::new()));
        return;
    };
    let old = &slots[i];
    let earlier: Vec<(Layer, Span)> = old
        .history
        .iter()
        .copied()
        .chain([(old.layer, old.span)])
        .collect();
    if old.value.is_error() && (append || old.layer != layer) {
        // The earlier value was wrong and reported; there is nothing to merge or conflict with.
        return;
    }
    if append {
        match (&old.value.v, &value.v) {
            (V::List(a), V::List(b)) => {
                let mut items: Vec<Value> = a.to_vec();
                for x in b.iter() {
                    if !items.iter().any(|y| y.same(x)) {
                        items.push(x.clone());
                    }
                }
                let merged = Value::new(V::List(Rc::new(items)), value.span);
                slots[i] = slot(merged, earlier);
            }
            _ => diags.push(not_a_list(
                name,
                span,
                format!("set `{name}` once, to the whole value"),
            )),
        }
        return;
    }
    if old.layer == layer {
        let help = "set it once; use `+=` to add to a list";
        diags.push(set_twice(
            &format!("`{name}` is set twice"),
            span,
            old.span,
            help,
        ));
        return;
    }
    if old.value.same(&value) {
        slots[i] = slot(value, earlier);
        return;
    }
    // Records merge key by key, also under `override` (which then wins on each key).
    if let (V::Record(a), V::Record(b)) = (&old.value.v, &value.v) {
        let mut merged: Vec<(Rc<str>, Value)> = a.to_vec();
        let mut ok = true;
        for (k, v) in b.iter() {
            match merged.iter_mut().find(|(n, _)| n == k) {
                // An optional field left out is `none`: it neither conflicts nor replaces.
                Some(_) if matches!(v.v, V::None) => {}
                Some((_, prev)) if matches!(prev.v, V::None) => *prev = v.clone(),
                Some((_, prev)) if !prev.same(v) && is_override => *prev = v.clone(),
                Some((_, prev)) if !prev.same(v) => {
                    ok = false;
                    diags.push(conflict(
                        &format!("{name}.{k}"),
                        v.span,
                        prev.span,
                        old.layer,
                        layer,
                        layers,
                    ));
                }
                Some(_) => {}
                None => merged.push((k.clone(), v.clone())),
            }
        }
        if ok {
            slots[i] = slot(Value::new(V::Record(Rc::new(merged)), value.span), earlier);
        }
        return;
    }
    if is_override {
        slots[i] = slot(value, earlier);
        return;
    }
    diags.push(conflict(name, span, old.span, old.layer, layer, layers));
}

/// `+=` on a field that is not a list.
fn not_a_list(name: &str, span: Span, help: String) -> Diagnostic {
    Diagnostic::at(
        Code::E0209,
        span,
        format!("`+=` appends to lists; `{name}` is not a list"),
        "not a list",
    )
    .with_help(help)
}

/// E0211: a value given a second time, with both places.
fn set_twice(message: &str, here: Span, first: Span, help: &str) -> Diagnostic {
    Diagnostic::at(Code::E0211, here, message, "set again here")
        .with_label(first, "first set here")
        .with_help(help)
}

/// A name declared a second time: a label on each declaration, or, when both come from
/// one declaration run twice by a loop, a note saying so.
fn declared_again(code: Code, here: Span, first: Span, message: String) -> Diagnostic {
    if here == first {
        return Diagnostic::at(code, here, message, "declared more than once here").with_note(
            "this declaration runs more than once (in a loop) and makes the same id each time",
        );
    }
    Diagnostic::at(code, here, message, "declared again here")
        .with_label(first, "first declared here")
}

fn conflict(
    name: &str,
    new: Span,
    old: Span,
    old_layer: Layer,
    new_layer: Layer,
    layers: &Layers,
) -> Diagnostic {
    let (old_name, new_name) = (layers.name(old_layer), layers.name(new_layer));
    let mut d = if old == new {
        // One line run by two layers: one mixin applied twice.
        Diagnostic::at(
            Code::E0212,
            new,
            format!("conflicting values for `{name}`"),
            "each use sets it here, differently",
        )
    } else {
        Diagnostic::at(
            Code::E0212,
            new,
            format!("conflicting values for `{name}`"),
            format!("{new_name} sets it here"),
        )
        .with_label(old, format!("{old_name} set it here"))
    };
    // A mixin's line is the same for every use: show where each was mixed in.
    let uses = [old_layer, new_layer].map(|l| layers.mixed_in(l));
    if let [Some((a, first)), Some((b, again))] = uses
        && a == b
    {
        d = d
            .with_label(first, format!("`{a}` is mixed in here"))
            .with_label(again, format!("`{b}` is mixed in again here"));
    } else {
        for (mixin, at) in uses.into_iter().flatten() {
            d = d.with_label(at, format!("`{mixin}` is mixed in here"));
        }
    }
    if old == new {
        return d.with_help("apply it once, or give both uses the same arguments");
    }
    d.with_help(format!(
        "write `override {}` if {new_name} should win, or remove one of them",
        match name.split_once('.') {
            Some((record, key)) => format!("{record} {{ {key} = ... }}"),
            None => format!("{name} = ..."),
        },
    ))
}

fn task_field_names<'a>(
    prog: &'a Program,
    task_args: &'a RecordTy,
    sensor_args: &'a RecordTy,
    op: usize,
) -> Vec<&'a str> {
    let info = &prog.operators[op];
    let mut names: Vec<&str> = info.fields.iter().map(|f| f.name.as_str()).collect();
    names.extend(task_args.fields.iter().map(|f| f.name.as_str()));
    if info.is_sensor {
        names.extend(sensor_args.fields.iter().map(|f| f.name.as_str()));
    }
    names
}

/// `a.b.c` as its names, when the expression is only names and field accesses.
fn name_path(e: &Expr) -> Option<Vec<(Rc<str>, Span)>> {
    match &e.kind {
        ExprKind::Name(n) => Some(vec![(Rc::from(n.as_str()), e.span)]),
        ExprKind::Field(base, f) => {
            let mut p = name_path(base)?;
            p.push((Rc::from(f.name.as_str()), f.span));
            Some(p)
        }
        _ => None,
    }
}

/// The first part of a value that has no Python form: a factory, template, operator,
/// module, function, task or group.
fn not_data(v: &Value) -> Option<&Value> {
    match &v.v {
        V::Item(_) | V::Partial(_) | V::Task(_) | V::Group(_) | V::Tenant(_) => Some(v),
        V::List(items) | V::AssetAll(items) | V::AssetAny(items) => items.iter().find_map(not_data),
        V::Record(fields) => fields.iter().find_map(|(_, x)| not_data(x)),
        _ => None,
    }
}

/// Whether a value is of a plain type.
type Accepts = fn(&V) -> bool;

/// For a type a value either is or is not (no conversion): the test, and how
/// messages name the type.
fn plain_kind(ty: &Ty) -> Option<(Accepts, &'static str)> {
    Some(match ty {
        Ty::Str => (|v| matches!(v, V::Str(_)), "a str"),
        Ty::Int => (|v| matches!(v, V::Int(_)), "an int"),
        Ty::Bool => (|v| matches!(v, V::Bool(_)), "a bool"),
        Ty::Duration => (|v| matches!(v, V::Duration(_)), "a duration"),
        Ty::Date => (|v| matches!(v, V::Date(_)), "a date"),
        Ty::Asset => (|v| matches!(v, V::Asset(_)), "an asset"),
        Ty::Task => (|v| matches!(v, V::Task(_)), "a task"),
        Ty::Factory => (
            |v| matches!(v, V::Item(Item::Factory(_)) | V::Partial(_)),
            "a factory",
        ),
        _ => return None,
    })
}

/// E0202 for a parameter or field that has no value, with its declaration as a label.
fn missing(at: Span, message: String, what: &str, field: &FieldTy, help: String) -> Diagnostic {
    Diagnostic::at(
        Code::E0202,
        at,
        message,
        format!("`{}` is not {what}", field.name),
    )
    .with_label(
        field.span,
        format!(
            "`{}: {}` is declared here without a default",
            field.name, field.ty
        ),
    )
    .with_help(help)
}

/// Whether `<` and friends compare these two: numbers, or two of the same ordered kind.
fn ordered(a: &V, b: &V) -> bool {
    matches!(
        (a, b),
        (V::Int(_) | V::Float(_), V::Int(_) | V::Float(_))
            | (V::Str(_), V::Str(_))
            | (V::Duration(_), V::Duration(_))
            | (V::Date(_), V::Date(_))
            | (V::DateTime(_), V::DateTime(_))
    )
}

fn is_asset(v: &V) -> bool {
    matches!(v, V::Asset(_) | V::AssetAll(_) | V::AssetAny(_))
}

/// The text a value stands for inside a string, if it has one.
pub fn display(v: &Value) -> Option<String> {
    Some(match &v.v {
        V::Str(s) => s.to_string(),
        V::Int(i) => i.to_string(),
        V::Float(f) => format!("{f}"),
        V::Bool(b) => b.to_string(),
        V::Duration(ms) => dagf_syntax::duration_text(*ms),
        V::Date(d) => format!("{:04}-{:02}-{:02}", d.year, d.month, d.day),
        V::DateTime(t) => format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
            t.date.year, t.date.month, t.date.day, t.hour, t.minute, t.second
        ),
        V::Preset(p) => format!("@{p}"),
        V::PyRef(p) => p.to_string(),
        V::Asset(a) => a.uri.clone(),
        _ => return None,
    })
}

fn describe(v: &Value) -> String {
    match display(v) {
        Some(t) if matches!(v.v, V::Str(_)) => format!("str \"{t}\""),
        Some(t) => format!("{} {t}", v.kind()),
        None => v.kind().to_string(),
    }
}

pub(crate) fn a_kind(v: &Value) -> String {
    with_article(v.kind())
}

fn help_for(what: &str) -> String {
    match what {
        "a duration" => "write a duration such as 30s, 5m, 2h, 1d or 1h30m".into(),
        "a datetime" | "a date" => {
            "write a date as 2024-01-01, or a datetime as 2024-01-01T06:00".into()
        }
        "a str" => "put the value in double quotes, or interpolate it: \"${value}\"".into(),
        "an int" => "write a whole number such as 3".into(),
        "a bool" => "write `true` or `false`".into(),
        "an asset" => "name an asset declared with `asset name = \"uri\"`".into(),
        list if list.starts_with("a list<") => {
            format!("write {list} in brackets, such as `[x, y]`; `[x]` for one value")
        }
        map if map.starts_with("a map<") => format!("write {map} as a record: `{{ key = value }}`"),
        "data (a value with a Python form)" => {
            "pass a str, number, list or record; a task's id is `\"name\"`, a factory is used by `dag`".into()
        }
        "a factory" => "name a factory, or a factory with some arguments given: `name(param = value)`".into(),
        other => format!("give {other} here"),
    }
}

fn range_text(base: &Ty, lo: Option<f64>, hi: Option<f64>, inclusive: bool) -> String {
    let show = |x: f64| {
        if matches!(base, Ty::Duration) {
            dagf_syntax::duration_text(x as i64)
        } else {
            format!("{x}")
        }
    };
    match (lo, hi) {
        (Some(lo), Some(hi)) if inclusive => format!("from {} to {}", show(lo), show(hi)),
        (Some(lo), Some(hi)) => format!("from {} to below {}", show(lo), show(hi)),
        (Some(lo), None) => format!("at least {}", show(lo)),
        (None, Some(hi)) if inclusive => format!("at most {}", show(hi)),
        (None, Some(hi)) => format!("below {}", show(hi)),
        (None, None) => "any".into(),
    }
}

fn abbreviate(names: &[&str]) -> String {
    if names.len() <= 12 {
        names.join(", ")
    } else {
        format!("{}, and {} more", names[..12].join(", "), names.len() - 12)
    }
}

/// `a list<str>`, `an ApiSource record`, `an int`: a type's name with its article.
fn with_article(name: &str) -> String {
    let vowel = name
        .chars()
        .next()
        .is_some_and(|c| "aeiouAEIOU".contains(c));
    if vowel {
        format!("an {name}")
    } else {
        format!("a {name}")
    }
}
