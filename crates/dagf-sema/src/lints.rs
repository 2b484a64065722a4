//! Lints that read the tree without evaluating it: unused parameters and imports, and
//! the DAG-factory anti-patterns (too many parameters, unvalidated names, hidden
//! reads of the environment).

use crate::modules::Program;
use dagf_diag::{Code, Diagnostic, Diagnostics};
use dagf_syntax::ast::{self, Expr, ExprKind, Stmt, StrPart, TypeExpr, TypeKind};
use std::collections::HashSet;

pub fn run(prog: &Program, diags: &mut Diagnostics) {
    for (m, module) in prog.modules.enumerate() {
        if m == prog.std_module {
            continue;
        }
        let mut used = HashSet::new();
        for item in &module.ast.items {
            names_in_item(item, &mut used);
        }
        for item in &module.ast.items {
            // Parameters: of factories, templates and callbacks, each used in its body
            // (a template's parameters may also feed its parent's arguments).
            let (kind, name, params, extra): (&str, &ast::Ident, &[ast::Param], Vec<&Expr>) =
                match item {
                    ast::Item::Factory(f) => (
                        "factory",
                        &f.name,
                        &f.params,
                        f.extends
                            .iter()
                            .flat_map(|(target, args)| {
                                std::iter::once(target).chain(args.iter().map(|a| &a.value))
                            })
                            .chain(f.mixins.iter().flat_map(|u| {
                                std::iter::once(&u.target).chain(u.args.iter().map(|a| &a.value))
                            }))
                            .collect(),
                    ),
                    ast::Item::Template(t) => (
                        "template",
                        &t.name,
                        &t.params,
                        t.target
                            .iter()
                            .chain(t.target_args.iter().flatten().map(|a| &a.value))
                            .chain(t.mixins.iter().flat_map(|u| {
                                std::iter::once(&u.target).chain(u.args.iter().map(|a| &a.value))
                            }))
                            .collect(),
                    ),
                    ast::Item::Callback(c) => ("callback", &c.name, &c.params, vec![]),
                    ast::Item::Mixin(x) => ("mixin", &x.name, &x.params, vec![]),
                    _ => continue,
                };
            let body: &[Stmt] = match item {
                ast::Item::Factory(f) => &f.body,
                ast::Item::Template(t) => &t.body,
                ast::Item::Callback(c) => &c.body,
                ast::Item::Mixin(x) => &x.body,
                _ => continue,
            };
            let mut in_body = HashSet::new();
            body.iter().for_each(|s| names_in_stmt(s, &mut in_body));
            extra
                .into_iter()
                .for_each(|e| names_in_expr(e, &mut in_body));
            anti_patterns(kind, name, params, body, diags);
            for p in params {
                if !in_body.contains(p.name.name.as_str()) && !p.name.name.starts_with('_') {
                    diags.push(
                        Diagnostic::at(
                            Code::W0001,
                            p.name.span,
                            format!(
                                "parameter `{}` of {kind} `{}` is never used",
                                p.name.name, name.name
                            ),
                            "unused parameter",
                        )
                        .with_help(format!(
                            "remove it, use it in the body, or name it `_{}` to keep it on purpose",
                            p.name.name
                        )),
                    );
                }
            }
        }
        for imp in &module.imports {
            let Some(t) = imp.target else { continue };
            let is_used = match &imp.alias {
                Some(a) => used.contains(a.as_str()),
                None => prog.modules[t]
                    .scope
                    .keys()
                    .any(|k| used.contains(k.as_str())),
            };
            if !is_used {
                diags.push(
                    Diagnostic::at(
                        Code::W0002,
                        imp.span,
                        format!("nothing from `{}` is used", prog.modules[t].path),
                        "unused import",
                    )
                    .with_help("remove the import"),
                );
            }
        }
    }
}

fn names_in_item(item: &ast::Item, out: &mut HashSet<String>) {
    match item {
        ast::Item::Stmt(s) => names_in_stmt(s, out),
        ast::Item::Factory(f) => {
            for p in &f.params {
                names_in_type(&p.ty, out);
                if let Some(d) = &p.default {
                    names_in_expr(d, out);
                }
            }
            for s in &f.body {
                names_in_stmt(s, out);
            }
            if let Some((target, args)) = &f.extends {
                names_in_expr(target, out);
                args.iter().for_each(|a| names_in_expr(&a.value, out));
            }
            for u in &f.mixins {
                names_in_expr(&u.target, out);
                u.args.iter().for_each(|a| names_in_expr(&a.value, out));
            }
        }
        ast::Item::Template(t) => {
            for p in &t.params {
                names_in_type(&p.ty, out);
                if let Some(d) = &p.default {
                    names_in_expr(d, out);
                }
            }
            if let Some(target) = &t.target {
                names_in_expr(target, out);
            }
            t.target_args
                .iter()
                .flatten()
                .for_each(|a| names_in_expr(&a.value, out));
            t.body.iter().for_each(|s| names_in_stmt(s, out));
        }
        ast::Item::Mixin(x) => {
            for p in &x.params {
                names_in_type(&p.ty, out);
                if let Some(d) = &p.default {
                    names_in_expr(d, out);
                }
            }
            x.body.iter().for_each(|s| names_in_stmt(s, out));
        }
        ast::Item::Callback(c) => {
            for p in &c.params {
                names_in_type(&p.ty, out);
                if let Some(d) = &p.default {
                    names_in_expr(d, out);
                }
            }
            c.body.iter().for_each(|s| names_in_stmt(s, out));
        }
        ast::Item::Operator(o) => o.fields.iter().for_each(|p| names_in_type(&p.ty, out)),
        ast::Item::TypeDecl(t) => names_in_type(&t.ty, out),
        ast::Item::Asset(a) => names_in_expr(&a.uri, out),
        ast::Item::ExternDag(x) => x.ids.iter().for_each(|e| names_in_expr(e, out)),
        ast::Item::Tenant(t) => {
            for p in &t.fields {
                names_in_type(&p.ty, out);
                if let Some(d) = &p.default {
                    names_in_expr(d, out);
                }
            }
            t.settings.iter().for_each(|(_, e)| names_in_expr(e, out));
            t.policy
                .iter()
                .flat_map(|(_, b)| b)
                .for_each(|s| names_in_stmt(s, out));
            for p in &t.pools {
                names_in_expr(&p.name, out);
                p.body.iter().for_each(|s| names_in_stmt(s, out));
            }
        }
        ast::Item::Instance(i) => {
            out.insert(i.kind.name.clone());
            i.body.iter().for_each(|s| names_in_stmt(s, out));
        }
        ast::Item::Source(src) => names_in_type(&src.ty, out),
        ast::Item::Profile(p) => p.body.iter().for_each(|s| names_in_stmt(s, out)),
        ast::Item::Pool(p) => {
            names_in_expr(&p.name, out);
            p.body.iter().for_each(|s| names_in_stmt(s, out));
        }
        ast::Item::Test(t) => {
            for s in &t.body {
                match s {
                    ast::TestStmt::Stmt(s) => names_in_stmt(s, out),
                    ast::TestStmt::Assert { cond, message, .. } => {
                        names_in_expr(cond, out);
                        message.iter().for_each(|m| names_in_expr(m, out));
                    }
                    ast::TestStmt::Fixture { value, .. }
                    | ast::TestStmt::Snapshot { value, .. } => names_in_expr(value, out),
                    ast::TestStmt::Run { dag, expects, .. } => {
                        names_in_expr(dag, out);
                        expects.iter().for_each(|x| names_in_expr(x, out));
                    }
                    ast::TestStmt::Project { .. } => {}
                }
            }
        }
        ast::Item::Import(_) => {}
    }
}

fn names_in_type(t: &TypeExpr, out: &mut HashSet<String>) {
    match &t.kind {
        TypeKind::Named(n, args) => {
            out.insert(n.name.clone());
            args.iter().for_each(|a| names_in_type(a, out));
        }
        TypeKind::Record(fields, _) => fields.iter().for_each(|f| names_in_type(&f.ty, out)),
        TypeKind::AnyOf(members) => members.iter().for_each(|m| names_in_type(m, out)),
        TypeKind::Optional(b)
        | TypeKind::Range { base: b, .. }
        | TypeKind::Matches { base: b, .. } => names_in_type(b, out),
        TypeKind::Union(_) | TypeKind::Error => {}
    }
}

/// More parameters than this and a factory is doing too many things.
const MAX_PARAMS: usize = 7;

fn anti_patterns(
    kind: &str,
    name: &ast::Ident,
    params: &[ast::Param],
    body: &[Stmt],
    diags: &mut Diagnostics,
) {
    if kind != "callback" && params.len() > MAX_PARAMS {
        diags.push(
            Diagnostic::at(
                Code::W0004,
                name.span,
                format!("{kind} `{}` takes {} parameters", name.name, params.len()),
                format!("more than {MAX_PARAMS} parameters"),
            )
            .with_help("group related parameters into a record type (`type Config = { ... }`), and move cross-cutting ones (alerting, retries) into mixins"),
        );
    }
    // A plain `str` parameter spelled into a dag, task or group name.
    let plain: Vec<&ast::Param> = params
        .iter()
        .filter(|p| matches!(&p.ty.kind, TypeKind::Named(t, args) if t.name == "str" && args.is_empty()))
        .collect();
    let mut names = Vec::new();
    decl_names(body, &mut names);
    for e in names {
        let ExprKind::Str(parts) = &e.kind else {
            continue;
        };
        for part in parts {
            let StrPart::Interp(x) = part else { continue };
            let ExprKind::Name(n) = &x.kind else { continue };
            if let Some(p) = plain.iter().find(|p| p.name.name == *n) {
                diags.push(
                    Diagnostic::at(Code::W0005, x.span, format!("`{n}` goes into a name unchecked"), "any string can end up here")
                        .with_label(p.name.span, format!("`{n}: str` accepts any text"))
                        .with_help(format!("constrain it where it is declared: `{n}: str matches \"^[a-z][a-z0-9_]*$\"`, so a bad value is an error at the call")),
                );
            }
        }
    }
    let mut calls = Vec::new();
    body.iter()
        .for_each(|s| getenv_calls_in_stmt(s, &mut calls));
    for span in calls {
        diags.push(
            Diagnostic::at(Code::W0006, span, format!("{kind} `{}` reads the build's environment", name.name), "a hidden input")
                .with_help("make it a parameter and pass `getenv(...)` where the dag is made, so the value is visible and a test can give another"),
        );
    }
}

/// The names of every `dag`, `task` and `group` declared in these statements.
fn decl_names<'a>(stmts: &'a [Stmt], out: &mut Vec<&'a Expr>) {
    for s in stmts {
        match s {
            Stmt::Decl(d) => {
                out.push(&d.name);
                decl_names(d.body.as_deref().unwrap_or_default(), out);
            }
            Stmt::Let { value, .. } => {
                if let ExprKind::Decl(d) = &value.kind {
                    out.push(&d.name);
                }
            }
            Stmt::For { body, .. } | Stmt::After { body, .. } => decl_names(body, out),
            Stmt::If {
                then, otherwise, ..
            } => {
                decl_names(then, out);
                decl_names(otherwise, out);
            }
            _ => {}
        }
    }
}

fn names_in_stmt(s: &Stmt, out: &mut HashSet<String>) {
    each_expr_in_stmt(s, &mut |e| collect_name(e, out));
}

fn names_in_expr(e: &Expr, out: &mut HashSet<String>) {
    each_expr(e, &mut |x| collect_name(x, out));
}

fn collect_name(e: &Expr, out: &mut HashSet<String>) {
    if let ExprKind::Name(n) = &e.kind {
        out.insert(n.clone());
    }
}

/// The spans of `getenv(...)` calls in a statement.
fn getenv_calls_in_stmt(s: &Stmt, out: &mut Vec<dagf_diag::Span>) {
    each_expr_in_stmt(s, &mut |e| {
        if let ExprKind::Call(callee, _) = &e.kind
            && matches!(&callee.kind, ExprKind::Name(n) if n == "getenv")
        {
            out.push(e.span);
        }
    });
}

/// Calls `f` on every expression of a statement, nested ones included.
fn each_expr_in_stmt(s: &Stmt, f: &mut dyn FnMut(&Expr)) {
    match s {
        Stmt::Let { value, .. } | Stmt::Field { value, .. } => each_expr(value, f),
        Stmt::For { iter, body, .. } => {
            each_expr(iter, f);
            body.iter().for_each(|s| each_expr_in_stmt(s, f));
        }
        Stmt::If {
            cond,
            then,
            otherwise,
            ..
        } => {
            each_expr(cond, f);
            then.iter()
                .chain(otherwise)
                .for_each(|s| each_expr_in_stmt(s, f));
        }
        Stmt::Decl(d) => each_expr_in_decl(d, f),
        Stmt::Deps { first, rest, .. } => {
            each_expr(first, f);
            rest.iter().for_each(|(_, e)| each_expr(e, f));
        }
        Stmt::After { body, .. } => body.iter().for_each(|s| each_expr_in_stmt(s, f)),
        Stmt::Params { params, .. } => params
            .iter()
            .filter_map(|p| p.default.as_ref())
            .for_each(|e| each_expr(e, f)),
        Stmt::Assert(a) => {
            each_expr(&a.cond, f);
            each_expr(&a.message, f);
        }
        Stmt::Error(_) => {}
    }
}

fn each_expr_in_decl(d: &ast::Decl, f: &mut dyn FnMut(&Expr)) {
    each_expr(&d.name, f);
    if let Some(t) = &d.target {
        each_expr(t, f);
    }
    d.args.iter().flatten().for_each(|a| each_expr(&a.value, f));
    d.body
        .iter()
        .flatten()
        .for_each(|s| each_expr_in_stmt(s, f));
    for u in &d.mixins {
        each_expr(&u.target, f);
        u.args.iter().for_each(|a| each_expr(&a.value, f));
    }
}

/// Calls `f` on `e` and on every expression inside it.
fn each_expr(e: &Expr, f: &mut dyn FnMut(&Expr)) {
    f(e);
    match &e.kind {
        ExprKind::Str(parts) => parts.iter().for_each(|p| {
            if let StrPart::Interp(x) = p {
                each_expr(x, f)
            }
        }),
        ExprKind::List(xs) => xs.iter().for_each(|x| each_expr(x, f)),
        ExprKind::Comprehension {
            iter, cond, body, ..
        } => {
            each_expr(iter, f);
            if let Some(c) = cond {
                each_expr(c, f);
            }
            each_expr(body, f);
        }
        ExprKind::Record(fs) => fs.iter().for_each(|(_, x)| each_expr(x, f)),
        ExprKind::DynRecord(fs) => fs.iter().for_each(|(k, x)| {
            each_expr(k, f);
            each_expr(x, f);
        }),
        ExprKind::Field(b, _) | ExprKind::Unary(_, b) => each_expr(b, f),
        ExprKind::Index(a, b) | ExprKind::Binary(_, a, b) => {
            each_expr(a, f);
            each_expr(b, f);
        }
        ExprKind::Call(c, args) => {
            each_expr(c, f);
            args.iter().for_each(|a| each_expr(&a.value, f));
        }
        ExprKind::If(c, a, b) => [c, a, b].iter().for_each(|x| each_expr(x, f)),
        ExprKind::Decl(d) => each_expr_in_decl(d, f),
        _ => {}
    }
}
