//! The syntax tree. Every node carries a [`Span`]; parse errors leave `Error` nodes
//! behind so later stages can skip them without reporting twice.

use dagf_diag::{FileId, Span};

#[derive(Clone, Debug, PartialEq)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

/// One parsed `.dagf` file.
#[derive(Clone, Debug, Default)]
pub struct Module {
    pub file: FileId,
    pub items: Vec<Item>,
    /// The comments (`//` and `/* */`; doc comments are part of the tree), in order:
    /// the tree has no place for them, and a formatter must keep them.
    pub comments: Vec<Comment>,
}

/// A comment as written, markers included.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Comment {
    pub span: Span,
    pub text: String,
}

#[derive(Clone, Debug)]
pub enum Item {
    Import(Import),
    Operator(OperatorDecl),
    TypeDecl(TypeDecl),
    Factory(FactoryDecl),
    Template(TemplateDecl),
    Callback(CallbackDecl),
    Mixin(MixinDecl),
    Asset(AssetDecl),
    ExternDag(ExternDagDecl),
    Tenant(TenantDecl),
    Instance(InstanceDecl),
    Source(SourceDecl),
    Profile(ProfileDecl),
    Pool(PoolDecl),
    Stmt(Stmt),
}

#[derive(Clone, Debug)]
pub struct Import {
    pub path: String,
    pub path_span: Span,
    pub alias: Option<Ident>,
    pub span: Span,
}

/// `operator NAME = "python.Class" { fields }`, or `sensor ...`.
#[derive(Clone, Debug)]
pub struct OperatorDecl {
    pub docs: Vec<String>,
    /// What `plain` or `branching` before `operator` promises about its tasks.
    pub behaviour: OpBehaviour,
    pub is_sensor: bool,
    pub name: Ident,
    pub class: String,
    pub class_span: Span,
    pub fields: Vec<Param>,
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

#[derive(Clone, Debug)]
pub struct TypeDecl {
    pub docs: Vec<String>,
    pub name: Ident,
    pub ty: TypeExpr,
    pub span: Span,
}

/// `asset NAME = "uri"`, or `extern asset ...` for one produced outside the project.
#[derive(Clone, Debug)]
pub struct AssetDecl {
    pub docs: Vec<String>,
    pub is_extern: bool,
    pub name: Ident,
    pub uri: Expr,
    pub span: Span,
}

/// `extern dag "id", ...`: DAGs outside the project that its triggers and sensors may
/// name. Each expression gives a dag id or a list of them.
#[derive(Clone, Debug)]
pub struct ExternDagDecl {
    pub docs: Vec<String>,
    pub ids: Vec<Expr>,
    pub span: Span,
}

/// `tenant KIND { fields; naming = ...; output = ...; policy { ... } }`: a kind of scope
/// (customer, team, project, domain) that DAGs are placed in with `in`.
#[derive(Clone, Debug)]
pub struct TenantDecl {
    pub docs: Vec<String>,
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
    pub span: Span,
}

/// `pool NAME { slots = 8, description = "...", include_deferred = false }`: an Airflow
/// pool, at the top level of a file or in a tenant kind (one per tenant).
#[derive(Clone, Debug)]
pub struct PoolDecl {
    pub docs: Vec<String>,
    /// `extern pool NAME`: made outside the project; it has no settings and is not
    /// written to the pools file.
    pub is_extern: bool,
    /// A name or a string, which may interpolate (`"tenant_${tenant}"` in a kind).
    pub name: Expr,
    /// `name = value` settings.
    pub body: Vec<Stmt>,
    pub span: Span,
}

/// `source NAME: TYPE = yaml("configs/*.yaml")`: typed data read from files, a
/// database or a URL.
#[derive(Clone, Debug)]
pub struct SourceDecl {
    pub docs: Vec<String>,
    pub name: Ident,
    pub ty: TypeExpr,
    /// `yaml`, `json`, `sqlite` or `http`.
    pub format: Ident,
    /// What to read (paths, a query, a URL) and options such as `cache = 10m`.
    pub args: Vec<Arg>,
    /// The parenthesised arguments.
    pub args_span: Span,
    pub span: Span,
}

/// `profile NAME { ... }`: the last layer of every DAG when building for environment
/// `NAME` (`--env NAME`).
#[derive(Clone, Debug)]
pub struct ProfileDecl {
    pub docs: Vec<String>,
    pub name: Ident,
    pub body: Vec<Stmt>,
    pub span: Span,
}

/// `KIND NAME { field = value ... }`: one tenant of a kind.
#[derive(Clone, Debug)]
pub struct InstanceDecl {
    pub docs: Vec<String>,
    pub kind: Ident,
    pub name: Ident,
    pub body: Vec<Stmt>,
    pub span: Span,
}

/// A typed parameter (of a factory) or field (of an operator or record type).
#[derive(Clone, Debug, PartialEq)]
pub struct Param {
    pub docs: Vec<String>,
    pub name: Ident,
    pub ty: TypeExpr,
    pub default: Option<Expr>,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct FactoryDecl {
    pub docs: Vec<String>,
    /// Where `abstract` is written: such a factory makes no dag itself.
    pub is_abstract: Option<Span>,
    pub name: Ident,
    pub params: Vec<Param>,
    /// `extends PARENT(args)`: the parent's body runs first, a layer below this one.
    pub extends: Option<(Expr, Vec<Arg>)>,
    /// `with m1(args), m2`: mixins, applied in order after the parent, before the body.
    pub mixins: Vec<MixinUse>,
    pub body: Vec<Stmt>,
    pub span: Span,
}

/// `template NAME(params): TARGET { body }`: a reusable task (TARGET is an operator or
/// another task template, maybe with arguments) or task group (TARGET is `group`).
#[derive(Clone, Debug)]
pub struct TemplateDecl {
    pub docs: Vec<String>,
    pub name: Ident,
    pub params: Vec<Param>,
    /// `None` for a group template.
    pub target: Option<Expr>,
    pub target_args: Option<Vec<Arg>>,
    pub mixins: Vec<MixinUse>,
    pub body: Vec<Stmt>,
    pub span: Span,
}

/// `mixin NAME(params) { body }`: a bundle of fields, tasks and an `after` block that
/// factories, dags and templates take in with `with`.
#[derive(Clone, Debug)]
pub struct MixinDecl {
    pub docs: Vec<String>,
    pub name: Ident,
    pub params: Vec<Param>,
    pub body: Vec<Stmt>,
    pub span: Span,
}

/// One mixin named in a `with` list, with its arguments.
#[derive(Clone, Debug, PartialEq)]
pub struct MixinUse {
    pub target: Expr,
    pub args: Vec<Arg>,
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
    pub docs: Vec<String>,
    pub name: Ident,
    pub params: Vec<Param>,
    pub kind: CallbackKind,
    pub path: String,
    pub path_span: Span,
    pub body: Vec<Stmt>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum TypeKind {
    /// `str`, `list<str>`, `SourceCfg`: a name with type arguments.
    Named(Ident, Vec<TypeExpr>),
    /// `"poke" | "reschedule"`
    Union(Vec<(String, Span)>),
    /// `{ name: str, tables: list<str> = [] }`
    Record(Vec<ParamLite>),
    Optional(Box<TypeExpr>),
    /// `int in 0..=10`
    Range {
        base: Box<TypeExpr>,
        lo: Option<Expr>,
        hi: Option<Expr>,
        inclusive: bool,
    },
    /// `str matches "^[a-z]+$"`
    Matches {
        base: Box<TypeExpr>,
        pattern: String,
        pattern_span: Span,
    },
    Error,
}

/// A field of a record type.
#[derive(Clone, Debug, PartialEq)]
pub struct ParamLite {
    pub docs: Vec<String>,
    pub name: Ident,
    pub ty: TypeExpr,
    pub default: Option<Expr>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct TypeExpr {
    pub kind: TypeKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Stmt {
    Let {
        name: Ident,
        value: Expr,
        span: Span,
    },
    For {
        var: Ident,
        iter: Expr,
        body: Vec<Stmt>,
        span: Span,
    },
    If {
        cond: Expr,
        then: Vec<Stmt>,
        otherwise: Vec<Stmt>,
        span: Span,
    },
    /// `name = value`, `name += value`, or `name { ... }`; `override` replaces an
    /// earlier layer's value.
    Field {
        is_override: bool,
        name: Ident,
        append: bool,
        value: Expr,
        span: Span,
    },
    /// `dag ...`, `task ...`, `group ...`
    Decl(Decl),
    /// `params { NAME: TYPE = DEFAULT ... }`: typed dag params, each an Airflow `Param`;
    /// `override` replaces an earlier layer's declaration of the same names.
    Params {
        is_override: bool,
        params: Vec<Param>,
        span: Span,
    },
    /// `after { ... }` in a mixin: runs once the DAG's tasks and dependencies exist.
    After {
        body: Vec<Stmt>,
        span: Span,
    },
    /// `a >> b >> [c, d]` or `d << c`.
    Deps {
        first: Expr,
        rest: Vec<(DepOp, Expr)>,
        span: Span,
    },
    Error(Span),
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum DepOp {
    /// `>>`: left runs before right.
    Then,
    /// `<<`: right runs before left.
    After,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum DeclKind {
    Dag,
    Task,
    Group,
}

/// `KIND NAME: TARGET(args) { body }`, the one form of every declaration that creates something.
#[derive(Clone, Debug, PartialEq)]
pub struct Decl {
    pub docs: Vec<String>,
    /// `abstract task NAME`: a task every concrete child factory must declare.
    pub is_abstract: bool,
    /// `dag x ... with m1, m2 { ... }`: mixins applied before the body.
    pub mixins: Vec<MixinUse>,
    /// `override task NAME: ...`: replaces a task an earlier layer declared.
    pub is_override: bool,
    pub kind: DeclKind,
    pub name: Expr,
    pub target: Option<Expr>,
    pub args: Option<Vec<Arg>>,
    /// `dag x: f() in acme`: the tenant the dag is placed in.
    pub scope: Option<Box<Expr>>,
    pub body: Option<Vec<Stmt>>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Arg {
    pub name: Option<Ident>,
    pub value: Expr,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum StrPart {
    Text(String),
    Interp(Expr),
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    And,
    Or,
    /// `a & b`: every asset.
    All,
    /// `a | b`: any asset.
    Any,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum UnOp {
    Neg,
    Not,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    None,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(Vec<StrPart>),
    /// Milliseconds.
    Duration(i64),
    Date(Date),
    DateTime(DateTime),
    Preset(String),
    Name(String),
    List(Vec<Expr>),
    /// `[for x in xs if cond: expr]`; with several clauses, `[for a in xs: for b in ys:
    /// expr]`, the outer ones have `flatten` set: their body is the next clause's list,
    /// whose items they take in order.
    Comprehension {
        var: Ident,
        iter: Box<Expr>,
        cond: Option<Box<Expr>>,
        body: Box<Expr>,
        flatten: bool,
    },
    /// `{ a = 1, "b" = 2 }`
    Record(Vec<(Ident, Expr)>),
    /// A record literal with a computed key: `{ "${t}_viewer" = ["can_read"] }`.
    DynRecord(Vec<(Expr, Expr)>),
    Field(Box<Expr>, Ident),
    Index(Box<Expr>, Box<Expr>),
    Call(Box<Expr>, Vec<Arg>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
    Unary(UnOp, Box<Expr>),
    If(Box<Expr>, Box<Expr>, Box<Expr>),
    /// A task or group declaration used as a value (`let l = task ...`).
    Decl(Box<Decl>),
    Error,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    pub year: i32,
    pub month: u32,
    pub day: u32,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DateTime {
    pub date: Date,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
    /// Offset from UTC in minutes; `None` means UTC was implied.
    pub offset_minutes: Option<i32>,
}

impl Expr {
    /// Takes the kind out, leaving a leaf behind (`Expr` has a `Drop`, so fields
    /// cannot simply be moved out).
    pub fn into_kind(mut self) -> ExprKind {
        std::mem::replace(&mut self.kind, LEAF)
    }

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
    let mut stack: Vec<(Ref<'a>, usize)> = roots.into_iter().map(|s| (Ref::Stmt(s), 1)).collect();
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
