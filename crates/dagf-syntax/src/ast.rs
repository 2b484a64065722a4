//! The syntax tree. Every node carries a [`Span`]; parse errors leave `Error` nodes
//! behind so later stages can skip them without reporting twice.

use dagf_diag::{FileId, Span};
pub use dagf_time::{Date, DateTime};

/// A name written in the source (of a declaration, field, parameter, variable or record key), with where it is.
#[derive(Clone, Debug, PartialEq)]
pub struct Ident {
    /// The name's text; a record key written as a string (`{ "team-a" = 1 }`) holds the string's text.
    pub name: String,
    /// Where the identifier is written.
    pub span: Span,
}

/// One parsed `.dagf` file.
#[derive(Clone, Debug, Default)]
pub struct Module {
    /// The file the module was parsed from.
    pub file: FileId,
    /// The file's top-level items, in source order.
    pub items: Vec<Item>,
    /// The comments (`//` and `/* */`; doc comments are part of the tree), in order:
    /// the tree has no place for them, and a formatter must keep them.
    pub comments: Vec<Comment>,
}

/// A comment as written, markers included.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Comment {
    /// Where the comment is in its file.
    pub span: Span,
    /// The comment's source text, exactly as in the file.
    pub text: String,
}

/// A top-level item of a file.
#[derive(Clone, Debug)]
pub enum Item {
    /// `import "lib.dagf" as lib`: another file's names.
    Import(Import),
    /// `operator NAME = "module.Class" { fields }`: a typed Airflow operator class, or a `sensor`.
    Operator(OperatorDecl),
    /// `type Cfg = { ... }`: a named type.
    TypeDecl(TypeDecl),
    /// `factory ingest(source: str) { ... }`: a DAG template with typed parameters.
    Factory(FactoryDecl),
    /// `template load(t: str): bash { ... }`: a reusable task or task group.
    Template(TemplateDecl),
    /// `callback chat(channel: str) = python "alerts.chat.post" { ... }`: a Python callable for a callback field.
    Callback(CallbackDecl),
    /// `mixin retried(n: int = 3) { ... }`: a bundle of fields and tasks taken in with `with`.
    Mixin(MixinDecl),
    /// `asset orders = "s3://lake/orders"`: an Airflow asset.
    Asset(AssetDecl),
    /// `extern dag "billing_daily"`: dag ids made outside the project.
    ExternDag(ExternDagDecl),
    /// `tenant Customer { ... }`: a tenant kind.
    Tenant(TenantDecl),
    /// `Customer acme { tier = "gold" }`: one tenant of a kind.
    Instance(InstanceDecl),
    /// `source cfgs: list<Cfg> = yaml("configs/*.yaml")`: typed data read at compile time.
    Source(SourceDecl),
    /// `profile dev { ... }`: what differs in one environment.
    Profile(ProfileDecl),
    /// `pool warehouse { slots = 8 }`: an Airflow pool.
    Pool(PoolDecl),
    /// A statement at the top level: `dag`, `let`, `for` or `if` (anything else is E0106).
    Stmt(Stmt),
    /// `test "name" { ... }`: dags built from factories and assertions about them, run
    /// by `dagfc test` only.
    Test(TestDecl),
}

/// `test "name" expect_error CODE { ... }`: a test of the project's factories. A build
/// or check never runs it.
#[derive(Clone, Debug)]
pub struct TestDecl {
    /// The `///` lines before the test, each the text after `///`.
    pub docs: Vec<String>,
    /// The test's name, what `dagfc test FILTER` matches and its report shows.
    pub name: String,
    /// Where the name's string literal is.
    pub name_span: Span,
    /// `expect_error E0205`: the test passes only if building its dags reports this code.
    pub expect_error: Option<Ident>,
    /// `env prod`: the test's dags (and its `project`) are built for this environment.
    pub env: Option<Ident>,
    /// Its statements, in order.
    pub body: Vec<TestStmt>,
    /// Where the whole test is.
    pub span: Span,
}

/// A statement of a test's body.
#[derive(Clone, Debug, PartialEq)]
pub enum TestStmt {
    /// `let` or `dag` (the dag is built, not written, and its name is bound to it);
    /// any other statement is an error there (E0106).
    Stmt(Stmt),
    /// `assert COND` or `assert COND, "message"`: the test fails where `COND` is false.
    Assert {
        /// What must hold, a `bool`.
        cond: Expr,
        /// The failure's text, instead of the condition's.
        message: Option<Expr>,
        /// Where the whole statement is.
        span: Span,
    },
    /// `fixture "configs/a.yaml" = "..."`: what reading a config source's file, database
    /// or URL gives in this test, instead of the real one.
    Fixture {
        /// `fixture remote = ...`: `path` is the name of a source, whose file, database
        /// (and query) or URL is replaced.
        by_source: bool,
        /// The file (relative to the test's file, as a source's path is), database or URL replaced.
        path: String,
        /// Where the path's string literal is.
        path_span: Span,
        /// The text (a string literal), `file("PATH")`, or for a database, the rows (a list of records).
        value: Expr,
        /// Where the whole statement is.
        span: Span,
    },
    /// `snapshot d`: the Python generated for the dag `d` must be the file kept beside the test.
    Snapshot {
        /// The dag, usually a name bound by `dag` in the test.
        value: Expr,
        /// Where the whole statement is.
        span: Span,
    },
    /// `project p`: the whole project built as `dagfc build` builds it (with the test's
    /// fixtures and environment), bound to `p`.
    Project {
        /// The name it is bound to.
        name: Ident,
        /// Where the whole statement is.
        span: Span,
    },
    /// `run d { expect tasks.load == "success" }`: the dag run with `airflow dags test`
    /// by `dagfc test --integration`, and what its run must end with.
    Run {
        /// The dag, a dag of the test or of its `project`.
        dag: Expr,
        /// Each `expect` condition, in order.
        expects: Vec<Expr>,
        /// Where the whole statement is.
        span: Span,
    },
}

impl TestStmt {
    /// Where the whole statement is.
    pub fn span(&self) -> Span {
        match self {
            TestStmt::Stmt(s) => s.span(),
            TestStmt::Assert { span, .. }
            | TestStmt::Fixture { span, .. }
            | TestStmt::Snapshot { span, .. }
            | TestStmt::Project { span, .. }
            | TestStmt::Run { span, .. } => *span,
        }
    }
}

/// `import "path.dagf"` or `import "path.dagf" as alias`: another file's top-level names.
#[derive(Clone, Debug)]
pub struct Import {
    /// The imported file's path as the string literal gives it, relative to the importing file.
    pub path: String,
    /// Where the path's string literal is.
    pub path_span: Span,
    /// The name after `as`: the file's names are then reached as `alias.name`; without it they join this file's scope.
    pub alias: Option<Ident>,
    /// Where the whole `import` is.
    pub span: Span,
}

/// `operator NAME = "python.Class" { fields }`, or `sensor ...`.
#[derive(Clone, Debug)]
pub struct OperatorDecl {
    /// The `///` lines before the declaration, each the text after `///`.
    pub docs: Vec<String>,
    /// What `plain` or `branching` before `operator` promises about its tasks.
    pub behaviour: OpBehaviour,
    /// Declared with `sensor`: its tasks also take the sensor arguments (`mode`, `poke_interval`, ...).
    pub is_sensor: bool,
    /// The operator's dagf name, what a task's target names (`task t: bash`).
    pub name: Ident,
    /// The Python class path, `"package.module.Class"`, that its tasks instantiate.
    pub class: String,
    /// Where the class path's string literal is.
    pub class_span: Span,
    /// The class's arguments, typed like factory parameters: `{ bash_command: str, env: map<str>? }`.
    pub fields: Vec<Param>,
    /// Where the whole declaration is.
    pub span: Span,
}

/// What an operator declaration promises about the class's tasks, for the optimiser.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub enum OpBehaviour {
    /// Nothing: a class declared without `plain` or `branching`.
    #[default]
    Unknown,
    /// `plain operator`: a task decides only its own state, takes BaseOperator's
    /// arguments as given, and is never a setup or teardown task.
    Plain,
    /// `branching operator`: as `plain`, except that a task may skip tasks downstream
    /// of it (a branch or short-circuit operator).
    Branching,
}

/// `type NAME = TYPE`: a name for a type, such as a record type for config files.
#[derive(Clone, Debug)]
pub struct TypeDecl {
    /// The `///` lines before the declaration, each the text after `///`.
    pub docs: Vec<String>,
    /// The type's name, usable wherever a type is written.
    pub name: Ident,
    /// The type it stands for.
    pub ty: TypeExpr,
    /// Where the whole declaration is.
    pub span: Span,
}

/// `asset NAME = "uri"` (or a record with Airflow's `name`, `uri`, `group` and
/// `extra`), `asset alias NAME = "alias"`, or either after `extern` for one produced
/// outside the project.
#[derive(Clone, Debug)]
pub struct AssetDecl {
    /// The `///` lines before the declaration, each the text after `///`.
    pub docs: Vec<String>,
    /// Declared with `extern asset`: produced outside the project, so it needs no producing task.
    pub is_extern: bool,
    /// Declared with `asset alias`: an Airflow `AssetAlias`, resolved to assets when tasks run.
    pub is_alias: bool,
    /// The asset's name, by which schedules, inlets and outlets refer to it.
    pub name: Ident,
    /// The expression that gives the asset: its URI (a non-empty string) or a record.
    pub uri: Expr,
    /// Where the whole declaration is.
    pub span: Span,
}

/// `extern dag "id", ...`: DAGs outside the project that its triggers and sensors may
/// name. Each expression gives a dag id or a list of them.
#[derive(Clone, Debug)]
pub struct ExternDagDecl {
    /// The `///` lines before the declaration, each the text after `///`.
    pub docs: Vec<String>,
    /// The expressions after `extern dag`, each a dag id or a list of dag ids.
    pub ids: Vec<Expr>,
    /// Where the whole declaration is.
    pub span: Span,
}

/// `tenant KIND { fields; naming = ...; output = ...; policy { ... } }`: a kind of scope
/// (customer, team, project, domain) that DAGs are placed in with `in`.
#[derive(Clone, Debug)]
pub struct TenantDecl {
    /// The `///` lines before the declaration, each the text after `///`.
    pub docs: Vec<String>,
    /// The kind's name (`Customer`), what a tenant declaration and `for c in Customer` name.
    pub name: Ident,
    /// The schema every instance fills in.
    pub fields: Vec<Param>,
    /// `naming = ...`, `output = ...`, `isolated = ...`: settings evaluated per instance.
    pub settings: Vec<(Ident, Expr)>,
    /// `policy { ... }`: a layer applied to every DAG placed in an instance (one; a
    /// second is reported), with where `policy` is written.
    pub policy: Vec<(Span, Vec<Stmt>)>,
    /// `pool "x_${tenant}" { slots = 4 }`: pools every tenant of the kind owns.
    pub pools: Vec<PoolDecl>,
    /// Where the whole declaration is.
    pub span: Span,
}

/// `pool NAME { slots = 8, description = "...", include_deferred = false }`: an Airflow
/// pool, at the top level of a file or in a tenant kind (one per tenant).
#[derive(Clone, Debug)]
pub struct PoolDecl {
    /// The `///` lines before the declaration, each the text after `///`.
    pub docs: Vec<String>,
    /// `extern pool NAME`: made outside the project; it has no settings and is not
    /// written to the pools file.
    pub is_extern: bool,
    /// A name or a string, which may interpolate (`"tenant_${tenant}"` in a kind).
    pub name: Expr,
    /// `name = value` settings.
    pub body: Vec<Stmt>,
    /// Where the whole declaration is.
    pub span: Span,
}

/// `source NAME: TYPE = yaml("configs/*.yaml")`: typed data read from files, a
/// database or a URL.
#[derive(Clone, Debug)]
pub struct SourceDecl {
    /// The `///` lines before the declaration, each the text after `///`.
    pub docs: Vec<String>,
    /// The source's name, a top-level name whose value is the data read.
    pub name: Ident,
    /// The type the data is checked against (`list<T>` collects every document).
    pub ty: TypeExpr,
    /// `yaml`, `json`, `sqlite` or `http`.
    pub format: Ident,
    /// What to read (paths, a query, a URL) and options such as `cache = 10m`.
    pub args: Vec<Arg>,
    /// The parenthesised arguments.
    pub args_span: Span,
    /// Where the whole declaration is.
    pub span: Span,
}

/// `profile NAME { ... }`: the last layer of every DAG when building for environment
/// `NAME` (`--env NAME`).
#[derive(Clone, Debug)]
pub struct ProfileDecl {
    /// The `///` lines before the declaration, each the text after `///`.
    pub docs: Vec<String>,
    /// The environment the profile applies to (`dev` in `profile dev`).
    pub name: Ident,
    /// The profile's statements: a dag body, applied as the last layer of every dag.
    pub body: Vec<Stmt>,
    /// Where the whole declaration is.
    pub span: Span,
}

/// `KIND NAME { field = value ... }`: one tenant of a kind.
#[derive(Clone, Debug)]
pub struct InstanceDecl {
    /// The `///` lines before the declaration, each the text after `///`.
    pub docs: Vec<String>,
    /// The tenant kind it belongs to (`Customer` in `Customer acme { ... }`).
    pub kind: Ident,
    /// The tenant's name (`acme`), a top-level name whose value is the tenant.
    pub name: Ident,
    /// The `field = value` statements that fill in the kind's schema (and `exports`).
    pub body: Vec<Stmt>,
    /// Where the whole declaration is.
    pub span: Span,
}

/// A typed parameter (of a factory) or field (of an operator or record type).
#[derive(Clone, Debug, PartialEq)]
pub struct Param {
    /// The `///` lines before the parameter, each the text after `///`.
    pub docs: Vec<String>,
    /// The parameter's or field's name, as arguments name it (`source = "crm"`).
    pub name: Ident,
    /// Its declared type (`str matches "^[a-z]+$"`, `list<str>`).
    pub ty: TypeExpr,
    /// The value used when an argument leaves it out, from `= value` after the type.
    pub default: Option<Expr>,
    /// Where `templated` is written before an operator's field: Airflow renders the
    /// field when the task runs, so it may hold another task's output.
    pub templated: Option<Span>,
    /// Where the whole parameter is.
    pub span: Span,
}

/// `factory NAME(params) extends P(args) with m { body }`: a DAG template; each `dag x: NAME(...)` is one DAG made from it.
#[derive(Clone, Debug)]
pub struct FactoryDecl {
    /// The `///` lines before the declaration, each the text after `///`; a dag made from it without docs of its own takes them as its `doc_md`.
    pub docs: Vec<String>,
    /// Where `abstract` is written: such a factory makes no dag itself.
    pub is_abstract: Option<Span>,
    /// The factory's name, what `dag x: NAME(...)` and `extends NAME` refer to.
    pub name: Ident,
    /// The typed parameters, in order; arguments bind them by position or by name.
    pub params: Vec<Param>,
    /// `extends PARENT(args)`: the parent's body runs first, a layer below this one.
    pub extends: Option<(Expr, Vec<Arg>)>,
    /// `with m1(args), m2`: mixins, applied in order after the parent, before the body.
    pub mixins: Vec<MixinUse>,
    /// The dag body: fields, tasks, groups and dependencies, run with the parameters bound.
    pub body: Vec<Stmt>,
    /// Where the whole declaration is.
    pub span: Span,
}

/// `template NAME(params): TARGET { body }`: a reusable task (TARGET is an operator or
/// another task template, maybe with arguments) or task group (TARGET is `group`).
#[derive(Clone, Debug)]
pub struct TemplateDecl {
    /// The `///` lines before the declaration, each the text after `///`.
    pub docs: Vec<String>,
    /// The template's name, what `task x: NAME(...)` or `group x: NAME(...)` refers to.
    pub name: Ident,
    /// The typed parameters, bound by a using task's or group's arguments.
    pub params: Vec<Param>,
    /// `None` for a group template.
    pub target: Option<Expr>,
    /// The arguments after the target: the operator's fields by name, or the parent template's parameters.
    pub target_args: Option<Vec<Arg>>,
    /// `with m1(args), m2`: mixins applied after the target, before the body.
    pub mixins: Vec<MixinUse>,
    /// The task or group body, run where a task or group uses the template.
    pub body: Vec<Stmt>,
    /// Where the whole declaration is.
    pub span: Span,
}

/// `mixin NAME(params) { body }`: a bundle of fields, tasks and an `after` block that
/// factories, dags and templates take in with `with`.
#[derive(Clone, Debug)]
pub struct MixinDecl {
    /// The `///` lines before the declaration, each the text after `///`.
    pub docs: Vec<String>,
    /// The mixin's name, what a `with` list refers to.
    pub name: Ident,
    /// The typed parameters, bound by the arguments in the `with` list.
    pub params: Vec<Param>,
    /// The statements applied, as a layer of their own, to what takes the mixin in.
    pub body: Vec<Stmt>,
    /// Where the whole declaration is.
    pub span: Span,
}

/// One mixin named in a `with` list, with its arguments.
#[derive(Clone, Debug, PartialEq)]
pub struct MixinUse {
    /// The mixin referred to: a name, or a path into an `import ... as` alias.
    pub target: Expr,
    /// The arguments in parentheses, bound to the mixin's parameters (none if it has no parentheses).
    pub args: Vec<Arg>,
    /// Where this entry of the `with` list is.
    pub span: Span,
}

/// How a callback calls Python.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum CallbackKind {
    /// A function, with bound keyword arguments (`functools.partial`).
    Python,
    /// A notifier class, instantiated with the arguments.
    Notifier,
}

/// `callback NAME(params) = python "module.func" { bound args }`, or `= notifier "module.Class" { ... }`.
#[derive(Clone, Debug)]
pub struct CallbackDecl {
    /// The `///` lines before the declaration, each the text after `///`.
    pub docs: Vec<String>,
    /// The callback's name, called in a callback field (`on_failure_callback = [chat(channel = "#x")]`).
    pub name: Ident,
    /// The typed parameters, bound where the callback is called and read by the block.
    pub params: Vec<Param>,
    /// Whether it names a function (`python`) or a notifier class (`notifier`).
    pub kind: CallbackKind,
    /// The Python path after the kind, `"module.func"` or `"module.Class"`.
    pub path: String,
    /// Where the Python path's string literal is.
    pub path_span: Span,
    /// The block: `name = value` keyword arguments (and `let`s), bound in the generated code.
    pub body: Vec<Stmt>,
    /// Where the whole declaration is.
    pub span: Span,
}

/// What a type expression says.
#[derive(Clone, Debug, PartialEq)]
pub enum TypeKind {
    /// `str`, `list<str>`, `SourceCfg`: a name with type arguments.
    Named(Ident, Vec<TypeExpr>),
    /// `"poke" | "reschedule"`
    Union(Vec<(String, Span)>),
    /// `str | list<str>`: a value of any one of the member types (two or more).
    AnyOf(Vec<TypeExpr>),
    /// `{ name: str, tables: list<str> = [] }`, and the rules (`assert`) every value keeps.
    Record(Vec<ParamLite>, Vec<Assert>),
    /// `T?`: a `T` that may also be `none`, and may be left out as a field or parameter.
    Optional(Box<TypeExpr>),
    /// `int in 0..=10`
    Range {
        /// The type the range constrains (`int`, `float` or `duration`).
        base: Box<TypeExpr>,
        /// The lower bound, if written (`0` in `0..=10`).
        lo: Option<Expr>,
        /// The upper bound, if written (`10` in `0..=10`).
        hi: Option<Expr>,
        /// `..=` (the upper bound is allowed) rather than `..`.
        inclusive: bool,
    },
    /// `str matches "^[a-z]+$"`
    Matches {
        /// The type the pattern constrains (`str`).
        base: Box<TypeExpr>,
        /// The regular expression, as the string literal gives it (not anchored unless it says so).
        pattern: String,
        /// Where the pattern's string literal is.
        pattern_span: Span,
    },
    /// A type that did not parse; already reported.
    Error,
}

/// A field of a record type.
#[derive(Clone, Debug, PartialEq)]
pub struct ParamLite {
    /// The `///` lines before the field, each the text after `///`.
    pub docs: Vec<String>,
    /// The field's name, the key of a record value.
    pub name: Ident,
    /// The field's type.
    pub ty: TypeExpr,
    /// The value used when a record leaves the field out (`= []` after the type).
    pub default: Option<Expr>,
}

/// `assert CONDITION, "message"`: a rule checked where it stands (in a body) or for
/// every value of a record type (among its fields).
#[derive(Clone, Debug, PartialEq)]
pub struct Assert {
    /// What must hold, a `bool`.
    pub cond: Expr,
    /// The error's text when it does not hold (a string, which may interpolate).
    pub message: Expr,
    /// Where the whole rule is.
    pub span: Span,
}

/// A type as written, with where.
#[derive(Clone, Debug, PartialEq)]
pub struct TypeExpr {
    /// What the type says.
    pub kind: TypeKind,
    /// Where the type is written.
    pub span: Span,
}

/// A statement in a body (of a dag, factory, task, group, mixin, policy or profile), or at the top level.
#[derive(Clone, Debug, PartialEq)]
pub enum Stmt {
    /// `let name = value`: binds a name for the rest of the block.
    Let {
        /// The name bound.
        name: Ident,
        /// The value it is bound to.
        value: Expr,
        /// Where the whole statement is.
        span: Span,
    },
    /// `for x in xs { ... }`: the body once per item of a list, key of a record or tenant of a kind.
    For {
        /// The loop variable.
        var: Ident,
        /// What is walked: a list, a record or a tenant kind.
        iter: Expr,
        /// The statements run once per item.
        body: Vec<Stmt>,
        /// Where the whole statement is.
        span: Span,
    },
    /// `if cond { ... } else { ... }`: statements run only when a condition holds.
    If {
        /// The condition, a `bool`.
        cond: Expr,
        /// The statements run when it holds.
        then: Vec<Stmt>,
        /// The statements after `else` (an `else if` is a single `If` statement here); empty without `else`.
        otherwise: Vec<Stmt>,
        /// Where the whole statement is.
        span: Span,
    },
    /// `name = value`, `name += value`, or `name { ... }`; `override` replaces an
    /// earlier layer's value.
    Field {
        /// Whether `override` is written before the name.
        is_override: bool,
        /// The field set (`retries`, `default_args`, `bash_command`).
        name: Ident,
        /// `+=` (appends to a list field) rather than `=` or a block.
        append: bool,
        /// The value; `name { k = v }` gives a record.
        value: Expr,
        /// Where the whole statement is.
        span: Span,
    },
    /// `dag ...`, `task ...`, `group ...`
    Decl(Decl),
    /// `params { NAME: TYPE = DEFAULT ... }`: typed dag params, each an Airflow `Param`;
    /// `override` replaces an earlier layer's declaration of the same names.
    Params {
        /// Whether `override` precedes `params`.
        is_override: bool,
        /// Each param: name, type, default and `///` docs, as a parameter is written.
        params: Vec<Param>,
        /// The whole statement.
        span: Span,
    },
    /// `after { ... }` in a mixin: runs once the DAG's tasks and dependencies exist.
    After {
        /// The statements run once the DAG's tasks and dependencies exist.
        body: Vec<Stmt>,
        /// Where the whole statement is.
        span: Span,
    },
    /// `a >> b >> [c, d]` or `d << c`.
    Deps {
        /// The first operand: a task or group, a path into a group, or a list of them.
        first: Expr,
        /// Each operator with the operand to its right.
        rest: Vec<(DepOp, Expr)>,
        /// Where the whole statement is.
        span: Span,
    },
    /// `assert cond, "message"`: an error with the message when the condition is false.
    Assert(Assert),
    /// A statement that did not parse; already reported.
    Error(Span),
}

/// The operator between two operands of a dependency statement.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum DepOp {
    /// `>>`: left runs before right.
    Then,
    /// `<<`: right runs before left.
    After,
}

/// What a declaration (`Decl`) creates.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum DeclKind {
    /// `dag`: an Airflow DAG, made from a factory or one-off.
    Dag,
    /// `task`: an operator's or sensor's task, or a task template's.
    Task,
    /// `group`: a task group, inline or made from a group template.
    Group,
}

/// `KIND NAME: TARGET(args) { body }`, the one form of every declaration that creates something.
#[derive(Clone, Debug, PartialEq)]
pub struct Decl {
    /// The `///` lines before the declaration, each the text after `///`; a dag's become its `doc_md` unless its body sets `doc`.
    pub docs: Vec<String>,
    /// `abstract task NAME`: a task every concrete child factory must declare.
    pub is_abstract: bool,
    /// `dag x ... with m1, m2 { ... }`: mixins applied before the body.
    pub mixins: Vec<MixinUse>,
    /// `override task NAME: ...`: replaces a task an earlier layer declared.
    pub is_override: bool,
    /// Whether it declares a dag, a task or a group.
    pub kind: DeclKind,
    /// The dag, task or group id: a name (kept as a one-part string) or a string that may interpolate (`"load_${t}"`).
    pub name: Expr,
    /// What it is made from, after `:`: a factory, an operator, a sensor or a template (a name, path or index).
    pub target: Option<Expr>,
    /// The arguments in parentheses after the target, if any.
    pub args: Option<Vec<Arg>>,
    /// `dag x: f() in acme`: the tenant the dag is placed in.
    pub scope: Option<Box<Expr>>,
    /// The block, if any: fields, and for a dag or group, tasks and dependencies.
    pub body: Option<Vec<Stmt>>,
    /// Where the whole declaration is.
    pub span: Span,
}

/// An argument in a call or after a target: `name = value` or just `value`.
#[derive(Clone, Debug, PartialEq)]
pub struct Arg {
    /// The parameter or field named, for a named argument; `None` for a positional one.
    pub name: Option<Ident>,
    /// The argument's value.
    pub value: Expr,
    /// Where the whole argument is.
    pub span: Span,
}

/// An expression, with where it is written.
#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    /// What the expression is.
    pub kind: ExprKind,
    /// Where the expression is written.
    pub span: Span,
}

/// A piece of a string literal.
#[derive(Clone, Debug, PartialEq)]
pub enum StrPart {
    /// Text, escapes applied (`"load "` in `"load ${t}"`).
    Text(String),
    /// An interpolated expression (`t` in `"load ${t}"`), turned into text at compile time.
    Interp(Expr),
}

/// A binary operator.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum BinOp {
    /// `a + b`: sum, string or list concatenation.
    Add,
    /// `a - b`: subtraction.
    Sub,
    /// `a * b`: multiplication.
    Mul,
    /// `a / b`: division (whole-number for two `int`s).
    Div,
    /// `a == b`: equality.
    Eq,
    /// `a != b`: inequality.
    Ne,
    /// `a < b`: less than.
    Lt,
    /// `a <= b`: less than or equal.
    Le,
    /// `a > b`: greater than.
    Gt,
    /// `a >= b`: greater than or equal.
    Ge,
    /// `a and b`: both hold.
    And,
    /// `a or b`: either holds.
    Or,
    /// `a & b`: every asset.
    All,
    /// `a | b`: any asset.
    Any,
}

/// A prefix operator.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum UnOp {
    /// `-x`: negation.
    Neg,
    /// `not x`: logical negation.
    Not,
}

/// What an expression is.
#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    /// `none`: no value.
    None,
    /// `true` or `false`.
    Bool(bool),
    /// An integer literal (`1_000`), underscores dropped.
    Int(i64),
    /// A float literal (`0.5`).
    Float(f64),
    /// A string literal (`"a"`, `"""..."""`, `"load_${t}"`): its text and interpolations in order.
    Str(Vec<StrPart>),
    /// Milliseconds.
    Duration(i64),
    /// A date literal (`2024-01-01`).
    Date(Date),
    /// A datetime literal (`2024-01-01T06:00Z`).
    DateTime(DateTime),
    /// A schedule preset (`@daily`), the name after `@`.
    Preset(String),
    /// A name read as a value (`source`, `env`, `dag`).
    Name(String),
    /// `[a, b, c]`: a list.
    List(Vec<Expr>),
    /// `[for x in xs if cond: expr]`; with several clauses, `[for a in xs: for b in ys:
    /// expr]`, the outer ones have `flatten` set: their body is the next clause's list,
    /// whose items they take in order.
    Comprehension {
        /// The loop variable of this clause.
        var: Ident,
        /// What the clause walks.
        iter: Box<Expr>,
        /// `if cond` at the end of the clause: items for which it is false are skipped.
        cond: Option<Box<Expr>>,
        /// The item made per element, or for a `flatten` clause, the next clause.
        body: Box<Expr>,
        /// Whether this clause takes the items of the lists its body makes.
        flatten: bool,
    },
    /// `{ a = 1, "b" = 2 }`
    Record(Vec<(Ident, Expr)>),
    /// A record literal with a computed key: `{ "${t}_viewer" = ["can_read"] }`.
    DynRecord(Vec<(Expr, Expr)>),
    /// `a.b`: a field of a record, a tenant or an alias.
    Field(Box<Expr>, Ident),
    /// `a[i]`: an item of a list or a value of a record.
    Index(Box<Expr>, Box<Expr>),
    /// `f(args)`: a call of a built-in function or a callback.
    Call(Box<Expr>, Vec<Arg>),
    /// `a + b`, `a and b`, ...: a binary operation.
    Binary(BinOp, Box<Expr>, Box<Expr>),
    /// `-a` or `not a`.
    Unary(UnOp, Box<Expr>),
    /// `if c { a } else { b }`: one of two values.
    If(Box<Expr>, Box<Expr>, Box<Expr>),
    /// A task or group declaration used as a value (`let l = task ...`).
    Decl(Box<Decl>),
    /// An expression that did not parse; already reported.
    Error,
}

impl Expr {
    /// Takes the kind out, leaving a leaf behind (`Expr` has a `Drop`, so fields
    /// cannot simply be moved out).
    pub fn into_kind(mut self) -> ExprKind {
        std::mem::replace(&mut self.kind, LEAF)
    }

    /// An `Error` node at `span`, for a place that did not parse.
    pub fn error(span: Span) -> Expr {
        Expr {
            kind: ExprKind::Error,
            span,
        }
    }

    /// The plain text of a string literal without interpolation, if that is what this is.
    pub fn as_plain_str(&self) -> Option<String> {
        match &self.kind {
            ExprKind::Str(parts) => parts
                .iter()
                .map(|p| match p {
                    StrPart::Text(t) => Some(t.as_str()),
                    StrPart::Interp(_) => None,
                })
                .collect::<Option<String>>(),
            _ => None,
        }
    }
}

impl Stmt {
    /// Where the whole statement is written.
    pub fn span(&self) -> Span {
        match self {
            Stmt::Let { span, .. }
            | Stmt::For { span, .. }
            | Stmt::If { span, .. }
            | Stmt::Field { span, .. }
            | Stmt::Deps { span, .. }
            | Stmt::After { span, .. }
            | Stmt::Params { span, .. }
            | Stmt::Error(span) => *span,
            Stmt::Assert(a) => a.span,
            Stmt::Decl(d) => d.span,
        }
    }
}

/// A node of the tree, for walks that must not recurse. (Only ever on a work stack
/// while a tree is taken apart, so its size does not matter.)
#[allow(clippy::large_enum_variant)]
enum Node {
    Expr(Expr),
    Stmt(Stmt),
}

const LEAF: ExprKind = ExprKind::None;

/// Moves the children of an expression onto `out`, leaving it a leaf.
fn take_expr_children(kind: &mut ExprKind, out: &mut Vec<Node>) {
    let take = |b: &mut Box<Expr>| {
        let span = b.span;
        Node::Expr(std::mem::replace(&mut **b, Expr { kind: LEAF, span }))
    };
    match kind {
        ExprKind::Str(parts) => {
            out.extend(std::mem::take(parts).into_iter().filter_map(|p| match p {
                StrPart::Interp(e) => Some(Node::Expr(e)),
                StrPart::Text(_) => None,
            }))
        }
        ExprKind::List(xs) => out.extend(std::mem::take(xs).into_iter().map(Node::Expr)),
        ExprKind::Comprehension {
            iter, cond, body, ..
        } => {
            out.push(take(iter));
            out.push(take(body));
            if let Some(c) = cond {
                out.push(take(c));
            }
        }
        ExprKind::Record(fs) => {
            out.extend(std::mem::take(fs).into_iter().map(|(_, e)| Node::Expr(e)))
        }
        ExprKind::DynRecord(fs) => out.extend(
            std::mem::take(fs)
                .into_iter()
                .flat_map(|(k, e)| [Node::Expr(k), Node::Expr(e)]),
        ),
        ExprKind::Field(b, _) | ExprKind::Unary(_, b) => out.push(take(b)),
        ExprKind::Index(a, b) | ExprKind::Binary(_, a, b) => {
            out.push(take(a));
            out.push(take(b));
        }
        ExprKind::Call(c, args) => {
            out.push(take(c));
            out.extend(
                std::mem::take(args)
                    .into_iter()
                    .map(|a| Node::Expr(a.value)),
            );
        }
        ExprKind::If(c, a, b) => {
            out.push(take(c));
            out.push(take(a));
            out.push(take(b));
        }
        ExprKind::Decl(d) => take_decl_children(d, out),
        _ => {}
    }
}

fn take_decl_children(d: &mut Decl, out: &mut Vec<Node>) {
    out.push(Node::Expr(std::mem::replace(
        &mut d.name,
        Expr {
            kind: LEAF,
            span: d.span,
        },
    )));
    if let Some(t) = d.target.take() {
        out.push(Node::Expr(t));
    }
    out.extend(
        d.args
            .take()
            .into_iter()
            .flatten()
            .map(|a| Node::Expr(a.value)),
    );
    out.extend(d.body.take().into_iter().flatten().map(Node::Stmt));
}

fn take_stmt_children(s: &mut Stmt, out: &mut Vec<Node>) {
    let leaf = |span: Span| Expr { kind: LEAF, span };
    match s {
        Stmt::Let { value, .. } | Stmt::Field { value, .. } => {
            out.push(Node::Expr(std::mem::replace(value, leaf(value.span))))
        }
        Stmt::For { iter, body, .. } => {
            out.push(Node::Expr(std::mem::replace(iter, leaf(iter.span))));
            out.extend(std::mem::take(body).into_iter().map(Node::Stmt));
        }
        Stmt::If {
            cond,
            then,
            otherwise,
            ..
        } => {
            out.push(Node::Expr(std::mem::replace(cond, leaf(cond.span))));
            out.extend(std::mem::take(then).into_iter().map(Node::Stmt));
            out.extend(std::mem::take(otherwise).into_iter().map(Node::Stmt));
        }
        Stmt::Decl(d) => take_decl_children(d, out),
        Stmt::After { body, .. } => out.extend(std::mem::take(body).into_iter().map(Node::Stmt)),
        Stmt::Params { params, .. } => out.extend(
            std::mem::take(params)
                .into_iter()
                .filter_map(|p| p.default.map(Node::Expr)),
        ),
        Stmt::Deps { first, rest, .. } => {
            out.push(Node::Expr(std::mem::replace(first, leaf(first.span))));
            out.extend(std::mem::take(rest).into_iter().map(|(_, e)| Node::Expr(e)));
        }
        Stmt::Assert(a) => {
            let (c, m) = (leaf(a.cond.span), leaf(a.message.span));
            out.push(Node::Expr(std::mem::replace(&mut a.cond, c)));
            out.push(Node::Expr(std::mem::replace(&mut a.message, m)));
        }
        Stmt::Error(_) => {}
    }
}

/// Dropping a deep tree recursively can overflow the stack; take it apart in a loop.
fn drop_iteratively(first: Node) {
    let mut stack = vec![first];
    while let Some(mut node) = stack.pop() {
        match &mut node {
            Node::Expr(e) => {
                take_expr_children(&mut e.kind, &mut stack);
                e.kind = LEAF;
            }
            Node::Stmt(s) => take_stmt_children(s, &mut stack),
        }
        // `node` is a leaf now; dropping it recurses no further.
    }
}

impl Drop for Expr {
    fn drop(&mut self) {
        if is_leafy(&self.kind) {
            return;
        }
        let kind = std::mem::replace(&mut self.kind, LEAF);
        drop_iteratively(Node::Expr(Expr {
            kind,
            span: self.span,
        }));
    }
}

impl Drop for Stmt {
    fn drop(&mut self) {
        if matches!(self, Stmt::Error(_)) {
            return;
        }
        let mut children = Vec::new();
        take_stmt_children(self, &mut children);
        for c in children {
            drop_iteratively(c);
        }
    }
}

fn is_leafy(kind: &ExprKind) -> bool {
    match kind {
        ExprKind::Str(parts) => parts.iter().all(|p| matches!(p, StrPart::Text(_))),
        ExprKind::List(xs) => xs.is_empty(),
        ExprKind::Record(fs) => fs.is_empty(),
        ExprKind::DynRecord(fs) => fs.is_empty(),
        ExprKind::None
        | ExprKind::Bool(_)
        | ExprKind::Int(_)
        | ExprKind::Float(_)
        | ExprKind::Duration(_)
        | ExprKind::Date(_)
        | ExprKind::DateTime(_)
        | ExprKind::Preset(_)
        | ExprKind::Name(_)
        | ExprKind::Error => true,
        _ => false,
    }
}

/// A borrowed node, for walks that must not recurse.
#[derive(Clone, Copy)]
enum Ref<'a> {
    Expr(&'a Expr),
    Stmt(&'a Stmt),
}

fn push_decl<'a>(d: &'a Decl, depth: usize, out: &mut Vec<(Ref<'a>, usize)>) {
    out.push((Ref::Expr(&d.name), depth));
    out.extend(d.target.iter().map(|t| (Ref::Expr(t), depth)));
    out.extend(
        d.args
            .iter()
            .flatten()
            .map(|a| (Ref::Expr(&a.value), depth)),
    );
    out.extend(d.body.iter().flatten().map(|s| (Ref::Stmt(s), depth)));
}

/// The deepest nesting of expressions and blocks under `stmts`, and where it is.
pub fn max_depth<'a>(roots: impl IntoIterator<Item = &'a Stmt>) -> (usize, Span) {
    deepest(roots.into_iter().map(|s| (Ref::Stmt(s), 1)).collect())
}

/// [`max_depth`] of a test's body.
pub fn max_test_depth(body: &[TestStmt]) -> (usize, Span) {
    let mut stack = Vec::new();
    for s in body {
        match s {
            TestStmt::Stmt(s) => stack.push((Ref::Stmt(s), 1)),
            TestStmt::Assert { cond, message, .. } => {
                stack.push((Ref::Expr(cond), 1));
                stack.extend(message.iter().map(|m| (Ref::Expr(m), 1)));
            }
            TestStmt::Fixture { value, .. } | TestStmt::Snapshot { value, .. } => {
                stack.push((Ref::Expr(value), 1))
            }
            TestStmt::Run { dag, expects, .. } => {
                stack.push((Ref::Expr(dag), 1));
                stack.extend(expects.iter().map(|x| (Ref::Expr(x), 1)));
            }
            TestStmt::Project { .. } => {}
        }
    }
    deepest(stack)
}

fn deepest(mut stack: Vec<(Ref<'_>, usize)>) -> (usize, Span) {
    let mut best = (0, Span::default());
    while let Some((node, depth)) = stack.pop() {
        let d = depth + 1;
        let span = match node {
            Ref::Expr(e) => {
                match &e.kind {
                    ExprKind::Str(parts) => stack.extend(parts.iter().filter_map(|p| match p {
                        StrPart::Interp(x) => Some((Ref::Expr(x), d)),
                        StrPart::Text(_) => None,
                    })),
                    ExprKind::List(xs) => stack.extend(xs.iter().map(|x| (Ref::Expr(x), d))),
                    ExprKind::Comprehension {
                        iter, cond, body, ..
                    } => {
                        stack.extend([iter, body].into_iter().map(|x| (Ref::Expr(x), d)));
                        stack.extend(cond.iter().map(|c| (Ref::Expr(c), d)));
                    }
                    ExprKind::Record(fs) => stack.extend(fs.iter().map(|(_, x)| (Ref::Expr(x), d))),
                    ExprKind::DynRecord(fs) => stack.extend(
                        fs.iter()
                            .flat_map(|(k, x)| [(Ref::Expr(k), d), (Ref::Expr(x), d)]),
                    ),
                    ExprKind::Field(b, _) | ExprKind::Unary(_, b) => stack.push((Ref::Expr(b), d)),
                    ExprKind::Index(a, b) | ExprKind::Binary(_, a, b) => {
                        stack.push((Ref::Expr(a), d));
                        stack.push((Ref::Expr(b), d));
                    }
                    ExprKind::Call(c, args) => {
                        stack.push((Ref::Expr(c), d));
                        stack.extend(args.iter().map(|a| (Ref::Expr(&a.value), d)));
                    }
                    ExprKind::If(c, a, b) => {
                        stack.extend([c, a, b].into_iter().map(|x| (Ref::Expr(x), d)))
                    }
                    ExprKind::Decl(decl) => push_decl(decl, d, &mut stack),
                    _ => {}
                }
                e.span
            }
            Ref::Stmt(s) => {
                match s {
                    Stmt::Let { value, .. } | Stmt::Field { value, .. } => {
                        stack.push((Ref::Expr(value), d))
                    }
                    Stmt::Assert(a) => {
                        stack.push((Ref::Expr(&a.cond), d));
                        stack.push((Ref::Expr(&a.message), d));
                    }
                    Stmt::For { iter, body, .. } => {
                        stack.push((Ref::Expr(iter), d));
                        stack.extend(body.iter().map(|s| (Ref::Stmt(s), d)));
                    }
                    Stmt::If {
                        cond,
                        then,
                        otherwise,
                        ..
                    } => {
                        stack.push((Ref::Expr(cond), d));
                        stack.extend(then.iter().chain(otherwise).map(|s| (Ref::Stmt(s), d)));
                    }
                    Stmt::Decl(decl) => push_decl(decl, d, &mut stack),
                    Stmt::After { body, .. } => {
                        stack.extend(body.iter().map(|s| (Ref::Stmt(s), d)))
                    }
                    Stmt::Params { params, .. } => stack.extend(
                        params
                            .iter()
                            .filter_map(|p| p.default.as_ref())
                            .map(|x| (Ref::Expr(x), d)),
                    ),
                    Stmt::Deps { first, rest, .. } => {
                        stack.push((Ref::Expr(first), d));
                        stack.extend(rest.iter().map(|(_, x)| (Ref::Expr(x), d)));
                    }
                    Stmt::Error(_) => {}
                }
                s.span()
            }
        };
        if depth > best.0 {
            best = (depth, span);
        }
    }
    best
}
