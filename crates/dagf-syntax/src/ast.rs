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
}

#[derive(Clone, Debug)]
pub enum Item {
    Import(Import),
    Operator(OperatorDecl),
    TypeDecl(TypeDecl),
    Factory(FactoryDecl),
    Asset(AssetDecl),
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
    pub is_sensor: bool,
    pub name: Ident,
    pub class: String,
    pub class_span: Span,
    pub fields: Vec<Param>,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct TypeDecl {
    pub docs: Vec<String>,
    pub name: Ident,
    pub ty: TypeExpr,
    pub span: Span,
}

/// `asset NAME = "uri"`.
#[derive(Clone, Debug)]
pub struct AssetDecl {
    pub docs: Vec<String>,
    pub name: Ident,
    pub uri: Expr,
    pub span: Span,
}

/// A typed parameter (of a factory) or field (of an operator or record type).
#[derive(Clone, Debug)]
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
    pub name: Ident,
    pub params: Vec<Param>,
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
    pub kind: DeclKind,
    pub name: Expr,
    pub target: Option<Expr>,
    pub args: Option<Vec<Arg>>,
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
    /// `[for x in xs if cond: expr]`
    Comprehension {
        var: Ident,
        iter: Box<Expr>,
        cond: Option<Box<Expr>>,
        body: Box<Expr>,
    },
    /// `{ a = 1, "b" = 2 }`
    Record(Vec<(Ident, Expr)>),
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
            | Stmt::Error(span) => *span,
            Stmt::Decl(d) => d.span,
        }
    }
}
