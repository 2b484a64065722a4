//! Lints that read the tree without evaluating it: unused parameters and imports.

use crate::modules::Program;
use dagf_diag::{Code, Diagnostic, Diagnostics};
use dagf_syntax::ast::{self, Expr, ExprKind, Stmt, StrPart, TypeExpr, TypeKind};
use std::collections::HashSet;

pub fn run(prog: &Program, diags: &mut Diagnostics) {
    for (m, module) in prog.modules.iter().enumerate() {
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
                            .flat_map(|(_, args)| args.iter().map(|a| &a.value))
                            .chain(
                                f.mixins
                                    .iter()
                                    .flat_map(|u| u.args.iter().map(|a| &a.value)),
                            )
                            .collect(),
                    ),
                    ast::Item::Template(t) => (
                        "template",
                        &t.name,
                        &t.params,
                        t.target_args
                            .iter()
                            .flatten()
                            .map(|a| &a.value)
                            .chain(
                                t.mixins
                                    .iter()
                                    .flat_map(|u| u.args.iter().map(|a| &a.value)),
                            )
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
        ast::Item::Import(_) => {}
    }
}

fn names_in_type(t: &TypeExpr, out: &mut HashSet<String>) {
    match &t.kind {
        TypeKind::Named(n, args) => {
            out.insert(n.name.clone());
            args.iter().for_each(|a| names_in_type(a, out));
        }
        TypeKind::Record(fields) => fields.iter().for_each(|f| names_in_type(&f.ty, out)),
        TypeKind::Optional(b)
        | TypeKind::Range { base: b, .. }
        | TypeKind::Matches { base: b, .. } => names_in_type(b, out),
        TypeKind::Union(_) | TypeKind::Error => {}
    }
}

fn names_in_stmt(s: &Stmt, out: &mut HashSet<String>) {
    match s {
        Stmt::Let { value, .. } => names_in_expr(value, out),
        Stmt::For { iter, body, .. } => {
            names_in_expr(iter, out);
            body.iter().for_each(|s| names_in_stmt(s, out));
        }
        Stmt::If {
            cond,
            then,
            otherwise,
            ..
        } => {
            names_in_expr(cond, out);
            then.iter()
                .chain(otherwise)
                .for_each(|s| names_in_stmt(s, out));
        }
        Stmt::Field { value, .. } => names_in_expr(value, out),
        Stmt::Decl(d) => names_in_decl(d, out),
        Stmt::Deps { first, rest, .. } => {
            names_in_expr(first, out);
            rest.iter().for_each(|(_, e)| names_in_expr(e, out));
        }
        Stmt::After { body, .. } => body.iter().for_each(|s| names_in_stmt(s, out)),
        Stmt::Error(_) => {}
    }
}

fn names_in_decl(d: &ast::Decl, out: &mut HashSet<String>) {
    names_in_expr(&d.name, out);
    if let Some(t) = &d.target {
        names_in_expr(t, out);
    }
    d.args
        .iter()
        .flatten()
        .for_each(|a| names_in_expr(&a.value, out));
    d.body.iter().flatten().for_each(|s| names_in_stmt(s, out));
    for u in &d.mixins {
        names_in_expr(&u.target, out);
        u.args.iter().for_each(|a| names_in_expr(&a.value, out));
    }
}

fn names_in_expr(e: &Expr, out: &mut HashSet<String>) {
    match &e.kind {
        ExprKind::Name(n) => {
            out.insert(n.clone());
        }
        ExprKind::Str(parts) => parts.iter().for_each(|p| {
            if let StrPart::Interp(x) = p {
                names_in_expr(x, out)
            }
        }),
        ExprKind::List(xs) => xs.iter().for_each(|x| names_in_expr(x, out)),
        ExprKind::Comprehension {
            iter, cond, body, ..
        } => {
            names_in_expr(iter, out);
            if let Some(c) = cond {
                names_in_expr(c, out);
            }
            names_in_expr(body, out);
        }
        ExprKind::Record(fs) => fs.iter().for_each(|(_, x)| names_in_expr(x, out)),
        ExprKind::Field(b, _) | ExprKind::Unary(_, b) => names_in_expr(b, out),
        ExprKind::Index(a, b) | ExprKind::Binary(_, a, b) => {
            names_in_expr(a, out);
            names_in_expr(b, out);
        }
        ExprKind::Call(c, args) => {
            names_in_expr(c, out);
            args.iter().for_each(|a| names_in_expr(&a.value, out));
        }
        ExprKind::If(c, a, b) => [c, a, b].iter().for_each(|x| names_in_expr(x, out)),
        ExprKind::Decl(d) => names_in_decl(d, out),
        _ => {}
    }
}
