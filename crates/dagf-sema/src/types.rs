//! Types: resolving written types, and how they print in messages. Checking a value
//! against a type happens in the evaluator, which owns the values.

use crate::ids::{Id, ModuleId, TypeId};
use crate::modules::{BindingKind, Program};
use dagf_diag::{Code, Diagnostic, Diagnostics, Span};
use dagf_syntax::ast::{self, ExprKind, TypeExpr, TypeKind};
use regex::Regex;
use std::fmt;
use std::sync::Arc;

#[derive(Clone, Debug)]
pub enum Ty {
    Any,
    Str,
    Int,
    Float,
    Bool,
    Duration,
    /// A positive duration that Airflow takes as a number of seconds (an `int`
    /// argument such as `TriggerDagRunOperator(poke_interval=60)`).
    Seconds,
    Date,
    DateTime,
    /// A preset, cron string, duration, `none` or asset expression.
    Schedule,
    /// A dotted Python path, imported by the generated file.
    PyRef,
    /// One of Airflow's trigger rules.
    TriggerRule,
    /// A callback (declared with `callback`, or a "module.function" string), or a list of them.
    Callbacks,
    Asset,
    Task,
    /// A factory, or a factory with some arguments given.
    Factory,
    List(Box<Ty>),
    Map(Box<Ty>),
    Record(Arc<RecordTy>),
    Optional(Box<Ty>),
    Union(Arc<Vec<String>>),
    /// `str | list<str>`: a value of one of the members (two or more, none optional,
    /// at most one string union). Records that each fix `kind` to one string make
    /// a tagged union, checked against the member its `kind` names.
    AnyOf(Arc<Vec<Ty>>),
    /// A number or duration within bounds (durations in milliseconds).
    Range {
        base: Box<Ty>,
        lo: Option<f64>,
        hi: Option<f64>,
        inclusive: bool,
    },
    Matches {
        base: Box<Ty>,
        re: Arc<Regex>,
    },
    /// A type that failed to resolve; accepts anything so one mistake is reported once.
    Error,
}

#[derive(Clone, Debug)]
pub struct RecordTy {
    pub name: Option<String>,
    pub fields: Vec<FieldTy>,
    /// The `assert` rules every value of the record keeps.
    pub rules: Vec<Rule>,
}

/// A record type's `assert`, with the module whose names it reads.
#[derive(Clone, Debug)]
pub struct Rule {
    pub assert: ast::Assert,
    pub module: ModuleId,
}

/// A typed, named slot: a record field, an operator field or a factory parameter.
#[derive(Clone, Debug)]
pub struct FieldTy {
    pub name: String,
    pub ty: Ty,
    pub default: Option<ast::Expr>,
    /// The module whose names the default is evaluated with.
    pub module: ModuleId,
    pub span: Span,
}

impl FieldTy {
    /// Required: no default and not optional.
    pub fn required(&self) -> bool {
        self.default.is_none() && !self.ty.is_optional()
    }
}

impl RecordTy {
    pub fn field(&self, name: &str) -> Option<&FieldTy> {
        self.fields.iter().find(|f| f.name == name)
    }
}

impl Ty {
    /// The string a record fixes its `kind` field to, which makes it a member of a tagged union.
    pub fn tag(&self) -> Option<&str> {
        match self {
            Ty::Record(r) => match &r.field("kind")?.ty {
                Ty::Union(options) if options.len() == 1 => options.first().map(String::as_str),
                _ => None,
            },
            _ => None,
        }
    }

    /// The members' tags, when every member of this union is a record with its own `kind`.
    pub fn tags(&self) -> Option<Vec<&str>> {
        let Ty::AnyOf(members) = self else {
            return None;
        };
        let tags: Vec<&str> = members.iter().map(Ty::tag).collect::<Option<_>>()?;
        let distinct = tags.iter().enumerate().all(|(i, t)| !tags[..i].contains(t));
        distinct.then_some(tags)
    }

    pub fn is_optional(&self) -> bool {
        match self {
            Ty::Optional(_) | Ty::Any | Ty::Error => true,
            Ty::Range { base, .. } | Ty::Matches { base, .. } => base.is_optional(),
            _ => false,
        }
    }
}

impl fmt::Display for Ty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ty::Any => f.write_str("any"),
            Ty::Str => f.write_str("str"),
            Ty::Int => f.write_str("int"),
            Ty::Float => f.write_str("float"),
            Ty::Bool => f.write_str("bool"),
            Ty::Duration => f.write_str("duration"),
            Ty::Seconds => f.write_str("seconds"),
            Ty::Date => f.write_str("date"),
            Ty::DateTime => f.write_str("datetime"),
            Ty::Schedule => f.write_str("schedule"),
            Ty::PyRef => f.write_str("pyref"),
            Ty::TriggerRule => f.write_str("trigger_rule"),
            Ty::Callbacks => f.write_str("callbacks"),
            Ty::Asset => f.write_str("asset"),
            Ty::Task => f.write_str("task"),
            Ty::Factory => f.write_str("factory"),
            Ty::List(t) => write!(f, "list<{t}>"),
            Ty::Map(t) => write!(f, "map<{t}>"),
            Ty::Record(r) => match &r.name {
                Some(n) => f.write_str(n),
                None => {
                    let fields: Vec<String> = r
                        .fields
                        .iter()
                        .map(|x| format!("{}: {}", x.name, x.ty))
                        .collect();
                    write!(f, "{{ {} }}", fields.join(", "))
                }
            },
            Ty::Optional(t) => match &**t {
                Ty::AnyOf(_) => write!(f, "({t})?"),
                Ty::Union(vs) if vs.len() > 1 => write!(f, "({t})?"),
                _ => write!(f, "{t}?"),
            },
            Ty::AnyOf(members) => {
                let members: Vec<String> = members.iter().map(Ty::to_string).collect();
                f.write_str(&members.join(" | "))
            }
            Ty::Union(vs) => {
                let vs: Vec<String> = vs.iter().map(|v| format!("{v:?}")).collect();
                f.write_str(&vs.join(" | "))
            }
            Ty::Range {
                base,
                lo,
                hi,
                inclusive,
            } => {
                let num = |v: &Option<f64>| v.map(|x| format!("{x}")).unwrap_or_default();
                write!(
                    f,
                    "{base} in {}{}{}",
                    num(lo),
                    if *inclusive { "..=" } else { ".." },
                    num(hi)
                )
            }
            Ty::Matches { base, re } => write!(f, "{base} matches {:?}", re.as_str()),
            Ty::Error => f.write_str("?"),
        }
    }
}

/// Resolves a written type in the scope of `module`. `stack` guards against
/// a type alias that refers to itself.
pub fn resolve(
    prog: &Program,
    module: ModuleId,
    t: &TypeExpr,
    stack: &mut Vec<String>,
    diags: &mut Diagnostics,
) -> Ty {
    match &t.kind {
        TypeKind::Named(name, args) => {
            let arity = |n: usize, diags: &mut Diagnostics| {
                if args.len() != n {
                    diags.push(
                        Diagnostic::at(
                            Code::E0105,
                            t.span,
                            format!(
                                "`{}` takes {}",
                                name.name,
                                match n {
                                    0 => "no type arguments".to_string(),
                                    1 => "one type argument".to_string(),
                                    n => format!("{n} type arguments"),
                                }
                            ),
                            format!("{} given", args.len()),
                        )
                        .with_help(if n == 1 {
                            format!("write `{}<T>`", name.name)
                        } else {
                            format!("write `{}` alone", name.name)
                        }),
                    );
                    false
                } else {
                    true
                }
            };
            let simple = match name.name.as_str() {
                "any" => Some(Ty::Any),
                "str" => Some(Ty::Str),
                "int" => Some(Ty::Int),
                "float" => Some(Ty::Float),
                "bool" => Some(Ty::Bool),
                "duration" => Some(Ty::Duration),
                "seconds" => Some(Ty::Seconds),
                "date" => Some(Ty::Date),
                "datetime" => Some(Ty::DateTime),
                "schedule" => Some(Ty::Schedule),
                "pyref" => Some(Ty::PyRef),
                "trigger_rule" => Some(Ty::TriggerRule),
                "asset" => Some(Ty::Asset),
                "callbacks" => Some(Ty::Callbacks),
                "task" => Some(Ty::Task),
                "factory" => Some(Ty::Factory),
                _ => None,
            };
            if let Some(ty) = simple {
                return if arity(0, diags) { ty } else { Ty::Error };
            }
            match name.name.as_str() {
                "list" | "map" => {
                    if !arity(1, diags) {
                        return Ty::Error;
                    }
                    let inner = Box::new(resolve(prog, module, &args[0], stack, diags));
                    return if name.name == "list" {
                        Ty::List(inner)
                    } else {
                        Ty::Map(inner)
                    };
                }
                _ => {}
            }
            let binding = prog.lookup(module, &name.name);
            if let Some(b) = binding.filter(|_| prog.refs.on()) {
                prog.refs.note(crate::refs::Raw::Def {
                    at: name.span,
                    def: b.span,
                    kind: crate::refs::kind_of(&b.kind),
                });
            }
            match binding.map(|b| b.kind.clone()) {
                Some(BindingKind::Type(id)) => {
                    if !arity(0, diags) {
                        return Ty::Error;
                    }
                    if stack.contains(&name.name) {
                        diags.push(
                            Diagnostic::at(
                                Code::E0105,
                                name.span,
                                format!("type `{}` refers to itself", name.name),
                                "used inside its own definition",
                            )
                            .with_help(
                                "records cannot contain themselves; use a list of names instead",
                            ),
                        );
                        return Ty::Error;
                    }
                    match &prog.types[id].ty {
                        Ty::Error => resolve_decl(prog, id, stack, diags),
                        ty => ty.clone(),
                    }
                }
                _ => {
                    let mut names = vec![
                        "any",
                        "str",
                        "int",
                        "float",
                        "bool",
                        "duration",
                        "date",
                        "datetime",
                        "schedule",
                        "pyref",
                        "trigger_rule",
                        "callbacks",
                        "asset",
                        "task",
                        "list",
                        "map",
                    ];
                    let visible = prog.visible_names(module);
                    names.extend(visible.iter().copied().filter(|n| {
                        matches!(
                            prog.lookup(module, n).map(|b| &b.kind),
                            Some(BindingKind::Type(_))
                        )
                    }));
                    diags.push(
                        Diagnostic::at(
                            Code::E0105,
                            name.span,
                            format!("unknown type `{}`", name.name),
                            "not a type",
                        )
                        .with_suggestion(&name.name, names.iter().copied())
                        .or_help(format!("use a built-in type, or declare it: `type {} = ...`", name.name))
                        .with_note("types are str, int, float, bool, duration, date, datetime, schedule, pyref, asset, list<T>, map<T>, records and declared `type`s"),
                    );
                    Ty::Error
                }
            }
        }
        TypeKind::Union(vs) => Ty::Union(Arc::new(vs.iter().map(|(s, _)| s.clone()).collect())),
        TypeKind::AnyOf(members) => {
            let members: Vec<Ty> = members
                .iter()
                .map(|m| resolve(prog, module, m, stack, diags))
                .collect();
            any_of(members)
        }
        TypeKind::Record(fields, asserts) => {
            let mut out: Vec<FieldTy> = Vec::new();
            for f in fields {
                if let Some(prev) = out.iter().find(|p| p.name == f.name.name) {
                    diags.push(
                        Diagnostic::at(
                            Code::E0103,
                            f.name.span,
                            format!("field `{}` is declared twice", f.name.name),
                            "declared again here",
                        )
                        .with_label(prev.span, "first declared here")
                        .with_help("remove or rename one of them"),
                    );
                    continue;
                }
                out.push(field_ty_in(
                    prog,
                    module,
                    &f.name,
                    &f.ty,
                    f.default.clone(),
                    stack,
                    diags,
                ));
            }
            Ty::Record(Arc::new(RecordTy {
                name: None,
                fields: out,
                rules: asserts
                    .iter()
                    .map(|a| Rule {
                        assert: a.clone(),
                        module,
                    })
                    .collect(),
            }))
        }
        TypeKind::Optional(inner) => {
            Ty::Optional(Box::new(resolve(prog, module, inner, stack, diags)))
        }
        TypeKind::Range {
            base,
            lo,
            hi,
            inclusive,
        } => {
            let base_ty = resolve(prog, module, base, stack, diags);
            let (opt, plain) = split_optional(base_ty);
            if !matches!(plain, Ty::Int | Ty::Float | Ty::Duration | Ty::Error) {
                diags.push(
                    Diagnostic::at(Code::E0201, base.span, format!("`in` ranges constrain numbers and durations, not `{plain}`"), "not a number")
                        .with_help("use `matches \"regex\"` to constrain strings, or a string union for a fixed set"),
                );
                return Ty::Error;
            }
            let bound = |e: &Option<ast::Expr>| e.as_ref().and_then(bound_value);
            let ty = Ty::Range {
                base: Box::new(plain),
                lo: bound(lo),
                hi: bound(hi),
                inclusive: *inclusive,
            };
            rewrap(opt, ty)
        }
        TypeKind::Matches {
            base,
            pattern,
            pattern_span,
        } => {
            let base_ty = resolve(prog, module, base, stack, diags);
            let (opt, plain) = split_optional(base_ty);
            if !matches!(plain, Ty::Str | Ty::Error) {
                diags.push(
                    Diagnostic::at(
                        Code::E0201,
                        base.span,
                        format!("`matches` constrains strings, not `{plain}`"),
                        "not a string",
                    )
                    .with_help("use `in lo..=hi` to constrain numbers"),
                );
                return Ty::Error;
            }
            match Regex::new(pattern) {
                Ok(re) => rewrap(
                    opt,
                    Ty::Matches {
                        base: Box::new(plain),
                        re: Arc::new(re),
                    },
                ),
                Err(e) => {
                    let first = e
                        .to_string()
                        .lines()
                        .last()
                        .unwrap_or("invalid")
                        .trim()
                        .trim_start_matches("error: ")
                        .to_string();
                    diags.push(
                        Diagnostic::at(Code::E0206, *pattern_span, "invalid regular expression", first)
                            .with_help("the pattern uses Rust regex syntax; escape special characters with `\\\\`"),
                    );
                    Ty::Error
                }
            }
        }
        TypeKind::Error => Ty::Error,
    }
}

/// The union of resolved members: nested unions flattened, string unions joined into
/// one, a `?` on any member made a `?` on the whole, and a member written twice kept once.
fn any_of(members: Vec<Ty>) -> Ty {
    let mut optional = false;
    let mut strings: Vec<String> = Vec::new();
    let mut out: Vec<Ty> = Vec::new();
    let mut todo = members;
    todo.reverse();
    while let Some(m) = todo.pop() {
        match m {
            Ty::Error => return Ty::Error,
            Ty::Any => return Ty::Any,
            Ty::Optional(inner) => {
                optional = true;
                todo.push(*inner);
            }
            Ty::AnyOf(inner) => todo.extend(inner.iter().rev().cloned()),
            Ty::Union(options) => {
                if strings.is_empty() {
                    // Holds the string union's place among the members.
                    out.push(Ty::Union(Arc::new(Vec::new())));
                }
                for o in options.iter() {
                    if !strings.contains(o) {
                        strings.push(o.clone());
                    }
                }
            }
            m => {
                if !out.iter().any(|o| o.to_string() == m.to_string()) {
                    out.push(m);
                }
            }
        }
    }
    for m in &mut out {
        if matches!(m, Ty::Union(_)) {
            *m = Ty::Union(Arc::new(std::mem::take(&mut strings)));
        }
    }
    let ty = match out.len() {
        1 => out.pop().unwrap_or(Ty::Error),
        _ => Ty::AnyOf(Arc::new(out)),
    };
    rewrap(optional, ty)
}

fn split_optional(t: Ty) -> (bool, Ty) {
    match t {
        Ty::Optional(inner) => (true, *inner),
        t => (false, t),
    }
}

fn rewrap(optional: bool, t: Ty) -> Ty {
    if optional {
        Ty::Optional(Box::new(t))
    } else {
        t
    }
}

fn bound_value(e: &ast::Expr) -> Option<f64> {
    match &e.kind {
        ExprKind::Int(i) => Some(*i as f64),
        ExprKind::Float(f) => Some(*f),
        ExprKind::Duration(ms) => Some(*ms as f64),
        ExprKind::Unary(ast::UnOp::Neg, inner) => bound_value(inner).map(|v| -v),
        _ => None,
    }
}

fn resolve_decl(
    prog: &Program,
    id: TypeId,
    stack: &mut Vec<String>,
    diags: &mut Diagnostics,
) -> Ty {
    // A type used before its own declaration was resolved: resolve it in place (types
    // are numbered in the order they are declared, module by module).
    let mut n = 0;
    for (m, module) in prog.modules.enumerate() {
        for item in &module.ast.items {
            if let ast::Item::TypeDecl(d) = item {
                if n == id.index() {
                    stack.push(d.name.name.clone());
                    let ty = resolve(prog, m, &d.ty, stack, diags);
                    stack.pop();
                    return match ty {
                        Ty::Record(r) => Ty::Record(Arc::new(RecordTy {
                            name: Some(d.name.name.clone()),
                            ..(*r).clone()
                        })),
                        other => other,
                    };
                }
                n += 1;
            }
        }
    }
    Ty::Error
}

#[allow(clippy::too_many_arguments)]
fn field_ty_in(
    prog: &Program,
    module: ModuleId,
    name: &ast::Ident,
    ty: &TypeExpr,
    default: Option<ast::Expr>,
    stack: &mut Vec<String>,
    diags: &mut Diagnostics,
) -> FieldTy {
    FieldTy {
        name: name.name.clone(),
        ty: resolve(prog, module, ty, stack, diags),
        default,
        module,
        span: name.span,
    }
}

pub fn field_ty(
    prog: &Program,
    module: ModuleId,
    name: &ast::Ident,
    ty: &TypeExpr,
    default: Option<ast::Expr>,
    diags: &mut Diagnostics,
) -> FieldTy {
    field_ty_in(prog, module, name, ty, default, &mut Vec::new(), diags)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(xs: &[&str]) -> Ty {
        Ty::Union(Arc::new(xs.iter().map(|x| x.to_string()).collect()))
    }

    #[test]
    fn unions_flatten_join_strings_and_lift_optional() {
        let t = any_of(vec![
            Ty::Str,
            Ty::AnyOf(Arc::new(vec![Ty::List(Box::new(Ty::Str)), Ty::Int])),
            Ty::Optional(Box::new(Ty::Int)),
        ]);
        assert_eq!(t.to_string(), "(str | list<str> | int)?");
        assert!(t.is_optional());
        let t = any_of(vec![strings(&["a"]), Ty::Int, strings(&["b", "a"])]);
        assert_eq!(t.to_string(), "\"a\" | \"b\" | int");
        // One member left is that member; a member in error makes the whole an error.
        assert_eq!(any_of(vec![Ty::Int, Ty::Int]).to_string(), "int");
        assert!(matches!(any_of(vec![Ty::Int, Ty::Error]), Ty::Error));
    }

    fn record(name: &str, fields: &[(&str, Ty)]) -> Ty {
        Ty::Record(Arc::new(RecordTy {
            name: Some(name.into()),
            fields: fields
                .iter()
                .map(|(n, ty)| FieldTy {
                    name: n.to_string(),
                    ty: ty.clone(),
                    default: None,
                    module: ModuleId::default(),
                    span: Span::default(),
                })
                .collect(),
            rules: Vec::new(),
        }))
    }

    #[test]
    fn records_each_fixing_kind_make_a_tagged_union() {
        let s3 = record("S3", &[("kind", strings(&["s3"])), ("bucket", Ty::Str)]);
        let sftp = record("Sftp", &[("kind", strings(&["sftp"])), ("host", Ty::Str)]);
        let tagged = Ty::AnyOf(Arc::new(vec![s3.clone(), sftp.clone()]));
        assert_eq!(tagged.tags(), Some(vec!["s3", "sftp"]));
        // A kind of several strings, or two members of the same kind: an ordinary union.
        let loose = record("L", &[("kind", strings(&["a", "b"]))]);
        assert_eq!(Ty::AnyOf(Arc::new(vec![s3.clone(), loose])).tags(), None);
        assert_eq!(Ty::AnyOf(Arc::new(vec![s3.clone(), s3])).tags(), None);
        assert_eq!(Ty::AnyOf(Arc::new(vec![sftp, Ty::Str])).tags(), None);
    }
}
