//! A DAG under construction: its slots, tasks, groups and dependencies as written,
//! before the checks turn it into the IR.

use crate::ids::{GroupId, Id, IdVec, InstanceId, ModuleId, OperatorId, TaskId};
use crate::layers::{Layer, Slot};
use dagf_diag::Span;
use dagf_syntax::ast::Stmt;
use std::collections::HashMap;
use std::rc::Rc;

type Env = Vec<(Rc<str>, crate::value::Value)>;

#[derive(Clone, Debug)]
pub struct TaskB {
    pub id: String,
    pub op: OperatorId,
    pub slots: Vec<Slot>,
    pub span: Span,
    pub name_span: Span,
    /// The body had a syntax error, so a field it seems to lack may be in the broken part.
    pub incomplete: bool,
    /// Fields an unknown (misspelt) field was taken for: not also reported missing.
    pub meant: Vec<String>,
    /// The task group it is declared in.
    pub group: Option<GroupId>,
    /// Its name inside that group (`id` has the group path in front).
    pub local: String,
    /// Where a teardown's `setups` names it, which makes it a setup task.
    pub setup_by: Option<Span>,
    /// Where its own `setups` is set, which makes it a teardown task.
    pub teardown_by: Option<Span>,
    /// What it is expanded over, for a mapped task.
    pub mapped: Option<MapB>,
}

/// What a mapped task is expanded over.
#[derive(Clone, Debug)]
pub struct MapB {
    /// `expand_kwargs = ...` (one slot of that name) rather than `expand = { ... }`
    /// (a slot per mapped field).
    pub kwargs: bool,
    /// The mapped fields, each value a list or a task's output, checked.
    pub slots: Vec<Slot>,
    /// Where `expand` or `expand_kwargs` is set.
    pub span: Span,
}

impl TaskB {
    /// The field `name`, set to `true`, unless the operator declares a field of that
    /// name itself (then it is the operator's argument).
    fn flag(&self, name: &str, own: bool) -> Option<Span> {
        self.slots
            .iter()
            .find(|s| !own && &*s.name == name && matches!(s.value.v, crate::value::V::Bool(true)))
            .map(|s| s.span)
    }

    /// Why it is a setup task (`setup = true`, or named in a teardown's `setups`), if it is.
    pub fn setup_span(&self, op_declares: impl Fn(&str) -> bool) -> Option<Span> {
        self.flag("setup", op_declares("setup")).or(self.setup_by)
    }

    /// Why it is a teardown task (`teardown = true`, or its `setups`), if it is.
    pub fn teardown_span(&self, op_declares: impl Fn(&str) -> bool) -> Option<Span> {
        self.flag("teardown", op_declares("teardown"))
            .or(self.teardown_by)
    }
}

/// A task or a task group of the DAG being built.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Node {
    Task(TaskId),
    Group(GroupId),
}

/// A task group under construction.
#[derive(Clone, Debug)]
pub struct GroupB {
    pub local: String,
    /// The group path, as Airflow prefixes task ids with it (`outer.inner`).
    pub id: String,
    pub parent: Option<GroupId>,
    pub name_span: Span,
    pub slots: Vec<Slot>,
    /// For a mapped group, the template parameters it is expanded over.
    pub mapped: Option<MapB>,
    /// How many tasks were declared before it (its place among them in the output).
    pub order: usize,
    pub(crate) depth: usize,
    pub(crate) names: HashMap<String, Node>,
}

#[derive(Clone, Debug)]
pub(crate) enum Endpoint {
    Node(Node),
    /// A name (or `group.name` path) looked up from a scope once the body is complete.
    Path(Vec<(Rc<str>, Span)>, Option<GroupId>),
}

/// A typed dag param (`params { NAME: TYPE = DEFAULT }`) as the layers left it.
#[derive(Clone, Debug)]
pub struct ParamB {
    pub name: Rc<str>,
    pub ty: crate::types::Ty,
    /// Checked against `ty`; `None` only for an optional param, whose default is `none`.
    pub default: Option<crate::value::Value>,
    /// Its `///` doc comment: the description the trigger form shows.
    pub doc: Option<String>,
    pub layer: Layer,
    /// The declaration.
    pub span: Span,
}

/// A DAG under construction.
#[derive(Debug)]
pub struct DagB {
    pub id: String,
    pub span: Span,
    pub name_span: Span,
    pub slots: Vec<Slot>,
    pub tasks: IdVec<TaskId, TaskB>,
    pub groups: IdVec<GroupId, GroupB>,
    /// Names at the top of the DAG body; each group has its own.
    pub(crate) by_name: HashMap<String, Node>,
    /// The group whose body is being evaluated.
    pub(crate) scope: Option<GroupId>,
    /// Tasks declared with an error (already reported): `>>` on them says nothing more.
    pub(crate) failed: Vec<String>,
    /// Dependencies, with the nesting depth of the body that declared them.
    pub(crate) edges: Vec<(Endpoint, Endpoint, Span, usize)>,
    pub(crate) layer: Layer,
    /// What messages call it: "dag", or the "factory" or "template" checked on its own.
    pub(crate) kind: &'static str,
    /// The factory it is made from, and where that factory's name is written.
    pub(crate) made_from: Option<(String, Span)>,
    /// `abstract task` placeholders: (name, where, declaring factory).
    pub(crate) abstracts: Vec<(String, Span, String)>,
    /// The abstract factory whose body is being evaluated, if it is one.
    pub(crate) in_abstract: Option<String>,
    /// Mixins' `after` blocks, run once every body is done.
    pub(crate) afters: Vec<After>,
    /// The tenant the dag is placed in (`in`), and where that is written.
    pub(crate) tenant: Option<(InstanceId, Span)>,
    /// The naming convention that made the id, if one did.
    pub named_by: Option<Span>,
    /// Mixin applications before this dag's: its own are numbered from here.
    pub(crate) mixin_base: usize,
    /// Typed params, in the order first declared.
    pub params: Vec<ParamB>,
    /// Each teardown's `setups`: the teardown, a task it names, where.
    pub(crate) setups: Vec<(TaskId, Endpoint, Span)>,
    /// Whether each task is a teardown, once the roles are known (before the edges).
    pub(crate) teardowns: Vec<bool>,
    /// Whether each task is a setup, likewise.
    pub(crate) setup_tasks: Vec<bool>,
    /// When its declaration began to be evaluated, by the build's trace clock.
    pub(crate) started: u64,
}

/// A mixin's `after` block waiting for the DAG to be complete.
#[derive(Clone, Debug)]
pub(crate) struct After {
    pub(crate) module: ModuleId,
    pub(crate) env: Env,
    pub(crate) body: Vec<Stmt>,
    pub(crate) layer: Layer,
    /// The tasks the mixin itself declared: not counted among anyone's roots and leaves.
    pub(crate) own: std::ops::Range<TaskId>,
}

/// Whose fields a statement sets.
#[derive(Copy, Clone, Debug)]
pub(crate) enum Slots {
    Dag,
    Task(TaskId),
    Group(GroupId),
}

impl DagB {
    pub(crate) fn new(id: String, span: Span, name_span: Span, unused_factory: bool) -> Self {
        DagB {
            id,
            span,
            name_span,
            slots: Vec::new(),
            tasks: IdVec::default(),
            groups: IdVec::default(),
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
            params: Vec::new(),
            setups: Vec::new(),
            teardowns: Vec::new(),
            setup_tasks: Vec::new(),
            started: 0,
        }
    }

    pub(crate) fn names_mut(&mut self, scope: Option<GroupId>) -> &mut HashMap<String, Node> {
        match scope {
            Some(g) => &mut self.groups[g].names,
            None => &mut self.by_name,
        }
    }

    pub(crate) fn names(&self, scope: Option<GroupId>) -> &HashMap<String, Node> {
        match scope {
            Some(g) => &self.groups[g].names,
            None => &self.by_name,
        }
    }

    pub(crate) fn node_span(&self, n: Node) -> Span {
        match n {
            Node::Task(t) => self.tasks[t].name_span,
            Node::Group(g) => self.groups[g].name_span,
        }
    }

    /// What a name declared in the current scope gets in front of it.
    pub(crate) fn prefix(&self) -> String {
        self.scope
            .map_or(String::new(), |g| format!("{}.", self.groups[g].id))
    }

    pub(crate) fn depth(&self) -> usize {
        self.scope.map_or(0, |g| self.groups[g].depth + 1)
    }

    /// Whether task `t` is inside group `g`, at any depth.
    pub(crate) fn inside(&self, t: TaskId, g: GroupId) -> bool {
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
    /// As Airflow's `TaskGroup.get_leaves`, a teardown is never a last task: the work
    /// tasks it cleans up after stand for it (those with no other work downstream in the
    /// group), found through teardowns upstream of it but not through its setups.
    pub(crate) fn ends(
        &self,
        g: GroupId,
        edges: &[(TaskId, TaskId, Span)],
        roots: bool,
    ) -> Vec<TaskId> {
        let ends = self
            .tasks
            .ids()
            .filter(|&t| self.inside(t, g))
            .filter(|&t| {
                !edges.iter().any(|&(a, b, _)| {
                    let (this, other) = if roots { (b, a) } else { (a, b) };
                    this == t && self.inside(other, g)
                })
            });
        if roots {
            return ends.collect();
        }
        let teardown = |t: TaskId| self.teardowns.get(t.index()).copied().unwrap_or(false);
        let setup = |t: TaskId| self.setup_tasks.get(t.index()).copied().unwrap_or(false);
        let mut out: Vec<TaskId> = Vec::new();
        let mut seen: Vec<TaskId> = Vec::new();
        let mut stack: Vec<TaskId> = Vec::new();
        for t in ends {
            if !teardown(t) {
                if !out.contains(&t) {
                    out.push(t);
                }
                continue;
            }
            stack.push(t);
            while let Some(cur) = stack.pop() {
                if seen.contains(&cur) {
                    continue;
                }
                seen.push(cur);
                for &(up, _, _) in edges
                    .iter()
                    .filter(|&&(a, b, _)| b == cur && self.inside(a, g))
                {
                    if teardown(up) {
                        stack.push(up);
                    } else if teardown(cur) && setup(up) {
                        // Not through the teardown-to-setup path.
                    } else {
                        let other_work = edges.iter().any(|&(a, b, _)| {
                            a == up && b != cur && self.inside(b, g) && !teardown(b)
                        });
                        if !other_work && !out.contains(&up) {
                            out.push(up);
                        }
                    }
                }
            }
        }
        out
    }

    /// How messages name it: "dag `x`", or "factory `x`" when checking an unused factory.
    pub fn what(&self) -> String {
        format!("{} `{}`", self.kind, self.id)
    }
}
