use dagf_diag::Span;
pub use dagf_time::{Date, DateTime};
use petgraph::graph::{DiGraph, NodeIndex};

/// Everything a build produces, in declaration order: the DAGs or, when each was
/// emitted as soon as it was made (see `dagf_sema::check_and_emit`), what became of them.
#[derive(Clone, Debug, Default)]
pub struct Project {
    /// The DAGs made, when the build had no `Emit` step.
    pub dags: Vec<Dag>,
    /// What the `Emit` step made of each DAG (its file), when the build had one.
    pub built: Vec<Built>,
    /// The pools the project declares, by name.
    pub pools: Vec<Pool>,
    /// The output folders that belong to a team (multi-team mode), sorted by folder.
    pub teams: Vec<TeamFolder>,
}

/// An output folder whose dags belong to one Airflow team: it becomes a dag bundle of
/// its own, owned by the team.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct TeamFolder {
    /// The folder, `/`-separated, relative to the output folder (never `""`).
    pub folder: String,
    /// The Airflow team that owns the folder's bundle (a tenant kind's `team = ...`).
    pub team: String,
}

/// An Airflow pool the project declares (what `airflow pools import` creates).
#[derive(Clone, Debug, PartialEq)]
pub struct Pool {
    /// The pool's name as Airflow knows it (`tenant_acme`), unique in the project.
    pub name: String,
    /// `-1` for unlimited.
    pub slots: i64,
    /// The `description` setting; `None` when it is not set.
    pub description: Option<String>,
    /// Whether deferred tasks take slots of it.
    pub include_deferred: bool,
    /// Where it is declared (for a tenant kind's pool, the tenant).
    pub span: Span,
}

/// A DAG turned into its output file.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Built {
    /// The DAG's `dag_id`.
    pub dag_id: String,
    /// Where its name is written (what an error about its file points at).
    pub span: Span,
    /// The subfolder of the output folder its file goes in: `/`-separated, checked to
    /// stay inside (`""` for the top).
    pub folder: String,
    /// The file's name in that folder.
    pub file: String,
    /// The file's text: the generated Python module.
    pub text: String,
    /// How many tasks the DAG has (0 for a file of the project as a whole), for
    /// build metrics.
    pub tasks: usize,
    /// The tenant the DAG is placed in, if any, for build metrics.
    pub tenant: Option<String>,
}

/// A fully evaluated value, ready to print as Python.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// Python's `None`.
    None,
    /// `True` or `False`.
    Bool(bool),
    /// A Python `int`.
    Int(i64),
    /// A Python `float`.
    Float(f64),
    /// A Python string.
    Str(String),
    /// Milliseconds.
    Duration(i64),
    /// A `date(y, m, d)`.
    Date(Date),
    /// A `datetime(...)` with its `tzinfo`.
    DateTime(DateTime),
    /// A Python list.
    List(Vec<Value>),
    /// A Python dict, keys in the order written.
    Dict(Vec<(String, Value)>),
    /// A Python object imported by dotted path: `module.name`.
    PyRef {
        /// The module imported from (`alerts.chat`).
        module: String,
        /// The name imported from it (`post`).
        name: String,
    },
    /// A Python callable to call back: `module.name`, with keyword arguments bound
    /// (`functools.partial`) or, for an instance, passed to the constructor.
    Callable {
        /// The module imported from (`alerts.chat`).
        module: String,
        /// The function or class imported from it (`post`, `PagerNotifier`).
        name: String,
        /// The keyword arguments, in the order the callback's block sets them.
        args: Vec<(String, Value)>,
        /// A notifier class instantiated with the arguments, rather than a function they are bound to.
        instance: bool,
    },
    /// An Airflow asset or asset alias: the name it was declared with, and what
    /// identifies it to Airflow.
    Asset {
        /// The name it was declared with (`asset orders = ...`).
        name: String,
        /// Its URI, what `Asset(uri)` is given; for an alias, the alias's name.
        uri: String,
        /// An `AssetAlias` (`asset alias ...`), not an asset.
        alias: bool,
        /// Airflow's keyword arguments when the asset was written as a record (`name`,
        /// `uri`, `group`, `extra`, in that order); empty for a plain URI.
        args: Vec<(String, Value)>,
    },
    /// An Airflow `Param`: its default (under the empty keyword, passed first) and its
    /// keyword arguments (a description, then JSON Schema keywords).
    Param(Vec<(String, Value)>),
    /// Every one of these assets (`a & b`).
    AssetAll(Vec<Value>),
    /// Any one of these assets (`a | b`).
    AssetAny(Vec<Value>),
    /// What another task of the DAG returned, pulled when this task runs (an
    /// `XComArg`): the whole return value, or one key of it. The task it comes from is
    /// upstream of every task that reads it.
    Output {
        /// The full id of the task whose return value it is.
        task: String,
        /// The key read from it (`extract.output["rows"]`), if only one is.
        key: Option<String>,
    },
    /// One item of what the mapped task group around the task is expanded over: the
    /// group's parameter `param`, resolved for each instance of the group when it runs
    /// (Airflow's `MappedArgument`).
    MappedArg {
        /// The group template's parameter, what the group's `expand` names.
        param: String,
    },
}

/// A named argument and where its value was set.
#[derive(Clone, Debug, PartialEq)]
pub struct Field {
    /// The argument's dagf name (`retries`, `schedule`; the generated code writes a DAG's `start` as `start_date`).
    pub name: String,
    /// The evaluated value.
    pub value: Value,
    /// Where the value that stands was set (the dag's name, for a value dagf adds).
    pub origin: Span,
    /// Every layer that set it, oldest first: what it is ("the mixin `alerting`") and
    /// where. The last one set the value; the others were replaced or merged into it.
    pub provenance: Vec<(std::sync::Arc<str>, Span)>,
}

/// The Python class an operator or sensor is built from.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OpClass {
    /// The name the `.dagf` code uses (`bash`).
    pub name: String,
    /// The Python module the class is imported from (`airflow.providers.standard.operators.bash`).
    pub module: String,
    /// The class's name in that module (`BashOperator`).
    pub class: String,
    /// What its declaration promises about its tasks.
    pub behaviour: Behaviour,
}

/// What the optimiser may assume about an operator's tasks: what `plain operator` or
/// `branching operator` promises. A class declared without either promises nothing.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub enum Behaviour {
    /// Nothing is known: the class may skip other tasks, take BaseOperator's arguments
    /// its own way, or make its tasks setup or teardown tasks.
    #[default]
    Unknown,
    /// A task decides only its own state, takes BaseOperator's arguments (such as
    /// `trigger_rule`) as given, and is never a setup or teardown task.
    Plain,
    /// As `Plain`, except that a task may skip tasks downstream of it, as
    /// BranchPythonOperator and ShortCircuitOperator do.
    Branching,
}

impl Behaviour {
    /// Whether the class passes BaseOperator's arguments through unchanged and never
    /// makes a setup or teardown task.
    pub fn takes_task_args(self) -> bool {
        matches!(self, Behaviour::Plain | Behaviour::Branching)
    }
}

/// An Airflow TaskGroup. Its tasks' ids start with its path (`outer.inner.`).
#[derive(Clone, Debug)]
pub struct Group {
    /// The id within its parent group.
    pub group_id: String,
    /// The enclosing group, an index into the dag's `groups`; `None` at the top of the DAG.
    pub parent: Option<usize>,
    /// The `tooltip` argument of the TaskGroup, if set.
    pub tooltip: Option<String>,
    /// How many tasks were declared before it: its place among them in the output.
    pub order: usize,
    /// For a mapped group, the parameters it is expanded over (each a list or another
    /// task's output): the group runs once per item, its tasks with it.
    pub mapped: Option<Mapped>,
    /// Where its name is written.
    pub span: Span,
}

/// What a task is for: its work, or preparing (setup) or cleaning up (teardown) what
/// other tasks use.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub enum Role {
    /// An ordinary task.
    #[default]
    Work,
    /// A setup task (`as_setup()`).
    Setup,
    /// A teardown task (`as_teardown()`): runs once its upstream tasks are done, if a setup succeeded.
    Teardown {
        /// Whether its failure fails the DAG run; `None` leaves Airflow's default (no).
        on_failure_fail_dagrun: Option<bool>,
    },
}

/// An Airflow task: one operator instantiation.
#[derive(Clone, Debug)]
pub struct Task {
    /// The full id, group path included, as Airflow shows it.
    pub task_id: String,
    /// The id within its group (what the generated code passes as `task_id`).
    pub local_id: String,
    /// Its innermost group, an index into the dag's `groups`; `None` at the top of the DAG.
    pub group: Option<usize>,
    /// Shared by every task of the operator.
    pub op: std::sync::Arc<OpClass>,
    /// Operator arguments, in the order the operator declares them.
    pub args: Vec<Field>,
    /// A work, setup or teardown task.
    pub role: Role,
    /// For a mapped task, what it is expanded over; `args` are then the arguments
    /// every instance shares (Airflow's `partial`).
    pub mapped: Option<Mapped>,
    /// Where its name is written.
    pub span: Span,
}

impl Task {
    /// The argument `name`, if the task sets it.
    pub fn arg(&self, name: &str) -> Option<&Field> {
        self.args.iter().find(|f| f.name == name)
    }

    /// The full ids of the tasks whose output this task reads, in the order its
    /// arguments read them, each once.
    pub fn outputs_read(&self) -> Vec<&str> {
        fn walk<'v>(v: &'v Value, out: &mut Vec<&'v str>) {
            match v {
                Value::Output { task, .. } if !out.contains(&task.as_str()) => out.push(task),
                Value::List(xs) | Value::AssetAll(xs) | Value::AssetAny(xs) => {
                    xs.iter().for_each(|x| walk(x, out))
                }
                Value::Dict(kv) | Value::Param(kv) | Value::Callable { args: kv, .. } => {
                    kv.iter().for_each(|(_, x)| walk(x, out))
                }
                _ => {}
            }
        }
        let mut out = Vec::new();
        for f in self
            .args
            .iter()
            .chain(self.mapped.iter().flat_map(Mapped::fields))
        {
            walk(&f.value, &mut out);
        }
        out
    }

    /// Whether one of its arguments holds an item of the mapped group around it.
    pub fn reads_mapped_arg(&self) -> bool {
        fn walk(v: &Value) -> bool {
            match v {
                Value::MappedArg { .. } => true,
                Value::List(xs) | Value::AssetAll(xs) | Value::AssetAny(xs) => xs.iter().any(walk),
                Value::Dict(kv) | Value::Param(kv) | Value::Callable { args: kv, .. } => {
                    kv.iter().any(|(_, x)| walk(x))
                }
                _ => false,
            }
        }
        self.args.iter().any(|f| walk(&f.value))
    }

    /// Whether this task reads the output of the task whose full id is `task_id`.
    pub fn reads_output_of(&self, task_id: &str) -> bool {
        self.outputs_read().contains(&task_id)
    }
}

/// How a mapped task becomes one task instance per item when it runs (Airflow's
/// dynamic task mapping).
#[derive(Clone, Debug, PartialEq)]
pub enum Mapped {
    /// `.expand(field=items, ...)`: one instance per item (per combination of items,
    /// with several fields); each value a list or another task's output.
    Expand(Vec<Field>),
    /// `.expand_kwargs(items)`: one instance per item, each item a dict of arguments;
    /// the field is named `expand_kwargs`.
    ExpandKwargs(Field),
}

impl Mapped {
    /// The fields it maps over.
    pub fn fields(&self) -> &[Field] {
        match self {
            Mapped::Expand(fs) => fs,
            Mapped::ExpandKwargs(f) => std::slice::from_ref(f),
        }
    }
}

/// The tenant a dag is placed in: what the cross-tenant checks need.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Scope {
    /// The tenant kind's name (`Customer`).
    pub kind: String,
    /// The tenant's name (`acme`).
    pub tenant: String,
    /// Where the tenant is declared.
    pub span: Span,
    /// Where the dag is placed in it (`in ...`).
    pub placed: Span,
    /// Whether dependencies into and out of it are checked.
    pub isolated: bool,
    /// The assets (and aliases) other scopes may consume.
    pub exports: Vec<AssetId>,
    /// The Airflow team that owns the tenant's dags (multi-team mode).
    pub team: Option<String>,
}

/// What identifies an asset within a project: its URI, or an alias's name. Aliases and
/// assets live apart, as in Airflow.
#[derive(
    Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct AssetId {
    /// An alias's name rather than an asset's URI.
    pub alias: bool,
    /// The URI, or the alias's name.
    pub id: String,
}

impl std::fmt::Display for AssetId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.alias {
            write!(f, "alias {}", self.id)
        } else {
            f.write_str(&self.id)
        }
    }
}

/// A DAG: its own arguments, its `default_args`, and its tasks as a graph whose
/// edges carry the span of the dependency that made them.
#[derive(Clone, Debug)]
pub struct Dag {
    /// The DAG's `dag_id` (in a tenant, as its kind's naming convention makes it: `acme__ingest`).
    pub dag_id: String,
    /// The `.dagf` file (as shown to users) that declared it.
    pub source: String,
    /// Where its name is written.
    pub span: Span,
    /// The subfolder of the output folder its file goes in (`""` for the top).
    pub folder: String,
    /// The tenant it is placed in, if any.
    pub scope: Option<Scope>,
    /// The DAG's arguments other than `default_args` (`schedule`, `start`, `tags`, ...), in the order the standard library declares them.
    pub args: Vec<Field>,
    /// The `default_args` dict, key by key (a key set to `none` is left out).
    pub default_args: Vec<Field>,
    /// Its task groups; tasks and groups refer to them by index.
    pub groups: Vec<Group>,
    /// Its tasks, in declaration order, with an edge from each upstream task to each downstream one carrying the span of the dependency that made it.
    pub graph: DiGraph<Task, Span>,
}

impl Dag {
    /// A DAG with no arguments, groups or tasks, in no tenant and at the top of the output folder.
    pub fn new(dag_id: impl Into<String>, source: impl Into<String>, span: Span) -> Self {
        Dag {
            dag_id: dag_id.into(),
            source: source.into(),
            span,
            folder: String::new(),
            scope: None,
            args: Vec::new(),
            default_args: Vec::new(),
            groups: Vec::new(),
            graph: DiGraph::new(),
        }
    }

    /// The name of the file the DAG is written to: its id, then `.py`.
    pub fn file_name(&self) -> String {
        format!("{}.py", self.dag_id)
    }

    /// That file's path in the output folder, `/`-separated (`acme/acme__ingest.py`).
    pub fn path(&self) -> String {
        match self.folder.as_str() {
            "" => self.file_name(),
            folder => format!("{folder}/{}", self.file_name()),
        }
    }

    /// The DAG argument `name`, if the DAG sets it.
    pub fn arg(&self, name: &str) -> Option<&Field> {
        self.args.iter().find(|f| f.name == name)
    }

    /// The `i`-th task, in declaration order.
    pub fn task(&self, i: usize) -> &Task {
        &self.graph[NodeIndex::new(i)]
    }

    /// The tasks, in declaration order.
    pub fn tasks(&self) -> impl Iterator<Item = &Task> {
        self.graph.node_weights()
    }

    /// The node of the task whose full id is `task_id`.
    pub fn task_index(&self, task_id: &str) -> Option<NodeIndex> {
        self.graph
            .node_indices()
            .find(|&i| self.graph[i].task_id == task_id)
    }

    /// Whether group `gi` is group `outer` or inside it, at any depth.
    pub fn group_within(&self, gi: usize, outer: usize) -> bool {
        let mut at = Some(gi);
        // A malformed parent chain cannot loop forever: a dag has this many groups at most.
        for _ in 0..=self.groups.len() {
            let Some(g) = at else {
                break;
            };
            if g == outer {
                return true;
            }
            at = self.groups.get(g).and_then(|grp| grp.parent);
        }
        false
    }

    /// The full id of group `gi`, its parents' ids in front (`outer.inner`).
    pub fn group_path(&self, gi: usize) -> String {
        let mut parts = Vec::new();
        let mut at = Some(gi);
        for _ in 0..=self.groups.len() {
            let Some(grp) = at.and_then(|g| self.groups.get(g)) else {
                break;
            };
            parts.push(grp.group_id.as_str());
            at = grp.parent;
        }
        parts.reverse();
        parts.join(".")
    }

    /// The mapped group a task runs in (its own group or one around it), if any.
    pub fn mapped_group_of(&self, task: &Task) -> Option<usize> {
        let mut at = task.group;
        for _ in 0..=self.groups.len() {
            let grp = self.groups.get(at?)?;
            if grp.mapped.is_some() {
                return at;
            }
            at = grp.parent;
        }
        None
    }

    /// Edges as (upstream, downstream) task indices, each once, in a stable order.
    pub fn edge_pairs(&self) -> Vec<(usize, usize)> {
        let mut edges: Vec<(usize, usize)> = self
            .graph
            .edge_indices()
            .filter_map(|e| self.graph.edge_endpoints(e))
            .map(|(a, b)| (a.index(), b.index()))
            .collect();
        edges.sort_unstable();
        edges.dedup();
        edges
    }

    /// Edges as (upstream, downstream) task ids, in a stable order.
    pub fn edges(&self) -> Vec<(&str, &str)> {
        self.edge_pairs()
            .into_iter()
            .map(|(a, b)| (self.task(a).task_id.as_str(), self.task(b).task_id.as_str()))
            .collect()
    }
}
