//! Values of the evaluator. Every value remembers where it was written, so an error
//! about it can point there however far it travelled.

use crate::ids::{
    CallbackId, FactoryId, GroupId, InstanceId, KindId, MixinId, ModuleId, OperatorId, TaskId,
    TemplateId,
};
use dagf_diag::Span;
use dagf_time::{Date, DateTime};
use std::rc::Rc;

#[derive(Clone, Debug)]
pub struct Value {
    pub v: V,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub enum V {
    None,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(Rc<str>),
    /// Milliseconds.
    Duration(i64),
    Date(Date),
    DateTime(DateTime),
    /// `@daily`, without the `@`.
    Preset(Rc<str>),
    List(Rc<Vec<Value>>),
    Record(Rc<Vec<(Rc<str>, Value)>>),
    /// A string checked as a dotted Python path.
    PyRef(Rc<str>),
    Asset(Rc<Asset>),
    AssetAll(Rc<Vec<Value>>),
    AssetAny(Rc<Vec<Value>>),
    /// A task of the DAG being built, by index.
    Task(TaskId),
    /// A callback with its arguments bound.
    Callback(Rc<Callback>),
    /// A task group of the DAG being built, by index.
    Group(GroupId),
    /// A declared thing that is not data: an operator, a factory, a module, a built-in.
    Item(Item),
    /// A factory with some of its arguments already given: `ingest(owner = "data")`.
    Partial(Rc<Partial>),
    /// A tenant (`Customer acme { ... }`), by declaration.
    Tenant(InstanceId),
    /// What a task of the DAG being built returns (`extract.output`), or one key of it.
    Output(Rc<Output>),
    /// A parameter of a mapped task group (`expand = { PARAM = LIST }`) inside the
    /// group's body: one item, known only when the group's instance runs.
    MapArg(Rc<MapArg>),
    /// Stands for a value whose error was already reported.
    Error,
}

/// An asset or asset alias, as declared.
#[derive(Clone, Debug)]
pub struct Asset {
    /// The name it was declared with.
    pub name: String,
    /// Its URI (or, for an alias, the alias's name): what identifies it.
    pub uri: String,
    /// An `AssetAlias`.
    pub alias: bool,
    /// Airflow's keyword arguments, when written as a record.
    pub args: Vec<(Rc<str>, Value)>,
}

/// A Python callable to call back: a function with bound keyword arguments, or a
/// notifier instance.
#[derive(Clone, Debug)]
pub struct Callback {
    pub kind: dagf_syntax::ast::CallbackKind,
    pub path: String,
    pub args: Vec<(Rc<str>, Value)>,
}

/// A task's output as a value: the task is found once the DAG's bodies are complete
/// (as a `>>` operand is), so it may be declared anywhere in them.
#[derive(Debug)]
pub struct Output {
    /// The task: a node, or a name (`group.task` path) looked up from a scope.
    pub(crate) source: crate::dag::Endpoint,
    /// The key read from it (`extract.output["rows"]`).
    pub key: Option<Rc<str>>,
    /// Where `.output` is written.
    pub span: Span,
    /// The task, once found: `Some(None)` when it was not (and that was reported).
    pub(crate) producer: std::cell::OnceCell<Option<(TaskId, Rc<str>)>>,
}

/// A mapped group's parameter as its body sees it.
#[derive(Debug)]
pub struct MapArg {
    /// The group template's parameter.
    pub param: Rc<str>,
}

/// An argument a partial factory carries: parameter name, checked value, where it was given.
pub type Bound = (Rc<str>, Value, Span);

/// A factory applied to some of its arguments; the rest come where a dag is made from it.
#[derive(Clone, Debug)]
pub struct Partial {
    pub factory: FactoryId,
    pub bound: Vec<Bound>,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Item {
    Operator(OperatorId),
    Factory(FactoryId),
    Template(TemplateId),
    Callback(CallbackId),
    Mixin(MixinId),
    /// A tenant kind: iterating it walks its tenants.
    Kind(KindId),
    Module(ModuleId),
    Builtin(crate::builtins::Builtin),
}

impl Value {
    pub fn new(v: V, span: Span) -> Self {
        Value { v, span }
    }

    pub fn error(span: Span) -> Self {
        Value { v: V::Error, span }
    }

    /// The factory this value makes dags with, and the arguments it already carries.
    pub fn as_factory(&self) -> Option<(FactoryId, &[Bound])> {
        match &self.v {
            V::Item(Item::Factory(f)) => Some((*f, &[])),
            V::Partial(p) => Some((p.factory, &p.bound)),
            _ => None,
        }
    }

    pub fn is_error(&self) -> bool {
        matches!(self.v, V::Error)
    }

    /// Structural equality of data, ignoring where values were written.
    pub fn same(&self, other: &Value) -> bool {
        match (&self.v, &other.v) {
            (V::None, V::None) => true,
            (V::Bool(x), V::Bool(y)) => x == y,
            (V::Int(x), V::Int(y)) => x == y,
            (V::Float(x), V::Float(y)) => x == y,
            (V::Int(x), V::Float(y)) | (V::Float(y), V::Int(x)) => (*x as f64) == *y,
            (V::Str(x), V::Str(y)) | (V::PyRef(x), V::PyRef(y)) | (V::Preset(x), V::Preset(y)) => {
                x == y
            }
            (V::Duration(x), V::Duration(y)) => x == y,
            (V::Date(x), V::Date(y)) => x == y,
            (V::DateTime(x), V::DateTime(y)) => x == y,
            (V::List(x), V::List(y))
            | (V::AssetAll(x), V::AssetAll(y))
            | (V::AssetAny(x), V::AssetAny(y)) => {
                x.len() == y.len() && x.iter().zip(y.iter()).all(|(a, b)| a.same(b))
            }
            (V::Record(x), V::Record(y)) => {
                x.len() == y.len()
                    && x.iter()
                        .all(|(k, v)| y.iter().any(|(k2, v2)| k == k2 && v.same(v2)))
            }
            (V::Asset(x), V::Asset(y)) => x.uri == y.uri && x.alias == y.alias,
            (V::Task(x), V::Task(y)) => x == y,
            (V::Group(x), V::Group(y)) => x == y,
            (V::Tenant(x), V::Tenant(y)) => x == y,
            (V::Output(x), V::Output(y)) => Rc::ptr_eq(x, y),
            (V::MapArg(x), V::MapArg(y)) => Rc::ptr_eq(x, y),
            (V::Callback(x), V::Callback(y)) => {
                x.kind == y.kind
                    && x.path == y.path
                    && x.args.len() == y.args.len()
                    && x.args
                        .iter()
                        .zip(&y.args)
                        .all(|((a, u), (b, w))| a == b && u.same(w))
            }
            (V::Item(x), V::Item(y)) => x == y,
            (V::Partial(x), V::Partial(y)) => {
                x.factory == y.factory
                    && x.bound.len() == y.bound.len()
                    && x.bound
                        .iter()
                        .zip(&y.bound)
                        .all(|((a, u, _), (b, w, _))| a == b && u.same(w))
            }
            _ => false,
        }
    }

    /// A short name of the value's kind, for messages.
    pub fn kind(&self) -> &'static str {
        match &self.v {
            V::None => "none",
            V::Bool(_) => "bool",
            V::Int(_) => "int",
            V::Float(_) => "float",
            V::Str(_) => "str",
            V::Duration(_) => "duration",
            V::Date(_) => "date",
            V::DateTime(_) => "datetime",
            V::Preset(_) => "schedule preset",
            V::List(_) => "list",
            V::Record(_) => "record",
            V::PyRef(_) => "pyref",
            V::Asset(_) | V::AssetAll(_) | V::AssetAny(_) => "asset",
            V::Task(_) => "task",
            V::Callback(_) => "callback",
            V::Group(_) => "task group",
            V::Item(Item::Template(_)) => "template",
            V::Item(Item::Callback(_)) => "callback",
            V::Item(Item::Mixin(_)) => "mixin",
            V::Item(Item::Operator(_)) => "operator",
            V::Item(Item::Factory(_)) | V::Partial(_) => "factory",
            V::Item(Item::Module(_)) => "module",
            V::Item(Item::Kind(_)) => "tenant kind",
            V::Tenant(_) => "tenant",
            V::Output(_) => "task output",
            V::MapArg(_) => "mapped group's item",
            V::Item(Item::Builtin(_)) => "built-in function",
            V::Error => "error",
        }
    }
}
