//! Where each name used in the project is defined, for tools (go to definition,
//! hover, find references). The places that resolve names anyway (the evaluator,
//! type resolution) note each use as they resolve it; [`finish`] turns the notes into
//! a flat list sorted by the use's place. Nothing is noted unless
//! [`Options::references`](crate::Options::references) asks for it.

use crate::modules::{BindingKind, Program};
use dagf_diag::{FileId, Sources, Span};
use dagf_syntax::ast::{self, Expr, ExprKind, Item, Stmt, StrPart};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// What a name stands for.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DefKind {
    /// `operator NAME = "..."` or `sensor NAME = "..."`.
    Operator,
    /// `factory NAME(...) { ... }`: a DAG template.
    Factory,
    /// A task or group template.
    Template,
    /// `callback NAME(...) = python "..."`.
    Callback,
    /// `mixin NAME(...) { ... }`: a bundle applied to dags.
    Mixin,
    /// `type NAME = ...`.
    Type,
    /// `asset NAME = "uri"` (or `extern asset`).
    Asset,
    /// A top-level `let`.
    Const,
    /// A config source: `source NAME: TYPE = yaml(...)`.
    Source,
    /// `tenant NAME { ... }`: a kind of tenant.
    TenantKind,
    /// `KIND NAME { ... }`: one tenant.
    Tenant,
    /// The alias of `import "..." as NAME`.
    Module,
    /// A parameter of a factory, template, mixin or callback.
    Param,
    /// A field of an operator, a record type or a tenant kind.
    Field,
    /// A `let` inside a body.
    Let,
    /// The variable of a `for` loop or a list comprehension.
    LoopVar,
    /// A task declared in a dag, factory or template body.
    Task,
    /// A task group declared in a body.
    Group,
}

/// One use of a name and the declaration it resolves to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reference {
    /// Where the name is used.
    pub at: Span,
    /// The name in its declaration (for an import alias, the alias).
    pub def: Span,
    /// What the declaration declares.
    pub kind: DefKind,
    /// Whether the declaration is in the embedded standard library.
    pub std: bool,
    /// The declaration on one line, for hover: `factory etl(source: str, retries: int = 2)`.
    pub detail: Arc<str>,
}

/// A use noted while resolving it.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Raw {
    /// A declaration, a parameter, a field or an import alias (`def` is the import's
    /// span then; the alias is found when the list is made).
    Def { at: Span, def: Span, kind: DefKind },
    /// A task or group of a body, `decl` its whole declaration (a group's name).
    Node {
        at: Span,
        def: Span,
        decl: Span,
        group: bool,
    },
    /// A name bound in a body (a parameter, `let` or `for`): the evaluator's scopes
    /// keep no places, so the declaration is found in the text around the use.
    Local { at: Span },
}

/// The notes of a build, shared by the threads that resolve names.
#[derive(Debug, Default)]
pub(crate) struct Recorder {
    on: bool,
    found: std::sync::Mutex<Vec<Raw>>,
}

impl Recorder {
    /// A recorder that notes uses only when `on`.
    pub fn new(on: bool) -> Self {
        Recorder {
            on,
            found: Default::default(),
        }
    }

    pub fn on(&self) -> bool {
        self.on
    }

    /// Notes a use of a type (or anything resolved outside the evaluator).
    pub fn note(&self, raw: Raw) {
        if self.on {
            self.extend([raw]);
        }
    }

    /// Adds what an evaluator noted.
    pub fn extend(&self, raws: impl IntoIterator<Item = Raw>) {
        if let Ok(mut found) = self.found.lock() {
            found.extend(raws);
        }
    }

    fn take(&self) -> Vec<Raw> {
        self.found
            .lock()
            .map(|mut f| std::mem::take(&mut *f))
            .unwrap_or_default()
    }
}

/// The kind of declaration a module-level binding is.
pub(crate) fn kind_of(b: &BindingKind) -> DefKind {
    match b {
        BindingKind::Operator(_) => DefKind::Operator,
        BindingKind::Factory(_) => DefKind::Factory,
        BindingKind::Type(_) => DefKind::Type,
        BindingKind::Asset(_) => DefKind::Asset,
        BindingKind::Let(_) => DefKind::Const,
        BindingKind::Template(_) => DefKind::Template,
        BindingKind::Callback(_) => DefKind::Callback,
        BindingKind::Mixin(_) => DefKind::Mixin,
        BindingKind::Tenant(_) => DefKind::TenantKind,
        BindingKind::Instance(_) => DefKind::Tenant,
        BindingKind::Source(_) => DefKind::Source,
    }
}

/// The uses noted during the build, each with its declaration, sorted by place. A
/// note whose use is not written as the declared name (a field set through a record,
/// a task named by a string) is left out: it has no name to jump from.
pub(crate) fn finish(prog: &Program, sources: &Sources) -> Vec<Reference> {
    let mut raws = prog.refs.take();
    raws.sort_unstable_by_key(|r| match r {
        Raw::Def { at, .. } | Raw::Node { at, .. } | Raw::Local { at } => *at,
    });
    raws.dedup();
    let text = |s: Span| text(sources, s);
    let mut wanted: HashSet<Span> = HashSet::new();
    for r in &raws {
        if let Raw::Def { def, .. } = r {
            wanted.insert(*def);
        }
    }
    let headers = Headers::build(prog, sources, &wanted);
    let module_of: HashMap<FileId, crate::ids::ModuleId> = prog
        .modules
        .enumerate()
        .map(|(i, m)| (m.ast.file, i))
        .collect();
    let std_file = prog.modules.get(prog.std_module).map(|m| m.ast.file);
    let mut out: Vec<Reference> = Vec::with_capacity(raws.len());
    for r in raws {
        let (at, def, kind, detail) = match r {
            Raw::Def { at, def, kind } => match headers.found.get(&def) {
                Some((name, detail)) => (at, *name, kind, detail.clone()),
                None => (at, def, kind, Arc::from(text(def))),
            },
            Raw::Node {
                at,
                def,
                decl,
                group,
            } => {
                let (kind, detail) = match group {
                    true => (DefKind::Group, format!("group {}", head(text(decl)))),
                    false => (DefKind::Task, head(text(decl))),
                };
                (at, def, kind, Arc::from(detail.as_str()))
            }
            Raw::Local { at } => {
                let Some(&m) = module_of.get(&at.file) else {
                    continue;
                };
                let mut scope = Scope {
                    at,
                    name: text(at),
                    sources,
                    found: None,
                };
                scope.module(&prog.modules[m].ast);
                let Some((def, kind, detail)) = scope.found else {
                    continue;
                };
                (at, def, kind, Arc::from(detail.as_str()))
            }
        };
        if out.last().is_some_and(|p| p.at == at) || text(at) != text(def) || text(at).is_empty() {
            continue;
        }
        out.push(Reference {
            at,
            def,
            kind,
            std: Some(def.file) == std_file,
            detail,
        });
    }
    out
}

/// The text at `span`, or nothing for a span outside the source map.
fn text(sources: &Sources, span: Span) -> &str {
    if (span.file.0 as usize) < sources.len() {
        sources.text(span)
    } else {
        ""
    }
}

/// Text on one line: whitespace runs become one space, and a long text is cut.
fn one_line(text: &str) -> String {
    const MAX: usize = 160;
    let mut out = String::new();
    for (i, word) in text.split_whitespace().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(word);
        if out.len() > MAX {
            let mut cut = MAX;
            while !out.is_char_boundary(cut) {
                cut -= 1;
            }
            out.truncate(cut);
            out.push('…');
            break;
        }
    }
    out
}

/// A declaration's head: its text up to its body's `{` (not one inside brackets or a
/// string), on one line.
fn head(text: &str) -> String {
    let (mut depth, mut in_str, mut escaped) = (0usize, false, false);
    let mut end = text.len();
    for (i, c) in text.char_indices() {
        match (in_str, c) {
            (true, _) if escaped => escaped = false,
            (true, '\\') => escaped = true,
            (true, '"') | (false, '"') => in_str = !in_str,
            (true, _) => {}
            (false, '(' | '[') => depth += 1,
            (false, ')' | ']') => depth = depth.saturating_sub(1),
            (false, '{') if depth == 0 => {
                end = i;
                break;
            }
            (false, _) => {}
        }
    }
    one_line(&text[..end])
}

/// The one-line description of every declaration, parameter and field some use was
/// noted for, by the span the note gives, with the span of the name it declares.
struct Headers<'a> {
    sources: &'a Sources,
    wanted: &'a HashSet<Span>,
    found: HashMap<Span, (Span, Arc<str>)>,
}

impl<'a> Headers<'a> {
    fn build(prog: &Program, sources: &'a Sources, wanted: &'a HashSet<Span>) -> Self {
        let mut h = Headers {
            sources,
            wanted,
            found: HashMap::new(),
        };
        if wanted.is_empty() {
            return h;
        }
        for m in &prog.modules {
            for item in &m.ast.items {
                h.item(item);
            }
        }
        h
    }

    fn text(&self, s: Span) -> String {
        one_line(text(self.sources, s))
    }

    fn put(&mut self, key: Span, name: Span, detail: impl FnOnce(&Self) -> String) {
        if self.wanted.contains(&key) {
            let d = one_line(&detail(self));
            self.found.insert(key, (name, Arc::from(d.as_str())));
        }
    }

    fn params(&mut self, params: &[ast::Param], role: &str, owner: &str) {
        for p in params {
            self.put(p.name.span, p.name.span, |h| {
                format!("{role} {} (of {owner})", h.text(p.span))
            });
        }
    }

    /// A type as written; a record's fields without the comments between them.
    fn type_text(&self, ty: &ast::TypeExpr) -> String {
        match &ty.kind {
            ast::TypeKind::Record(fields, _) => {
                let fs: Vec<String> = fields
                    .iter()
                    .map(|f| format!("{}: {}", f.name.name, self.type_text(&f.ty)))
                    .collect();
                format!("{{ {} }}", fs.join(", "))
            }
            _ => self.text(ty.span),
        }
    }

    fn signature(&self, params: &[ast::Param]) -> String {
        let ps: Vec<String> = params.iter().map(|p| self.text(p.span)).collect();
        ps.join(", ")
    }

    fn record_fields(&mut self, ty: &ast::TypeExpr, owner: &str) {
        match &ty.kind {
            ast::TypeKind::Record(fields, _) => {
                for f in fields {
                    self.put(f.name.span, f.name.span, |h| {
                        let mut d = format!("field {}: {}", f.name.name, h.type_text(&f.ty));
                        if let Some(x) = &f.default {
                            d.push_str(" = ");
                            d.push_str(&h.text(x.span));
                        }
                        format!("{d} (of {owner})")
                    });
                    self.record_fields(&f.ty, owner);
                }
            }
            ast::TypeKind::Named(_, args) => {
                for a in args {
                    self.record_fields(a, owner);
                }
            }
            ast::TypeKind::Optional(t) => self.record_fields(t, owner),
            ast::TypeKind::AnyOf(members) => {
                for m in members {
                    self.record_fields(m, owner);
                }
            }
            ast::TypeKind::Range { base, .. } | ast::TypeKind::Matches { base, .. } => {
                self.record_fields(base, owner)
            }
            ast::TypeKind::Union(_) | ast::TypeKind::Error => {}
        }
    }

    fn item(&mut self, item: &Item) {
        match item {
            Item::Import(i) => {
                if let Some(alias) = &i.alias {
                    self.put(i.span, alias.span, |h| h.text(i.span));
                }
            }
            Item::Operator(o) => {
                let word = if o.is_sensor { "sensor" } else { "operator" };
                self.put(o.name.span, o.name.span, |h| {
                    format!("{word} {} = {}", o.name.name, h.text(o.class_span))
                });
                self.params(&o.fields, "field", &format!("{word} {}", o.name.name));
            }
            Item::TypeDecl(t) => {
                self.put(t.name.span, t.name.span, |h| {
                    format!("type {} = {}", t.name.name, h.type_text(&t.ty))
                });
                self.record_fields(&t.ty, &format!("type {}", t.name.name));
            }
            Item::Factory(f) => {
                self.put(f.name.span, f.name.span, |h| {
                    let abs = if f.is_abstract.is_some() {
                        "abstract "
                    } else {
                        ""
                    };
                    let mut d = format!("{abs}factory {}({})", f.name.name, h.signature(&f.params));
                    if let Some((parent, _)) = &f.extends {
                        d.push_str(" extends ");
                        d.push_str(&h.text(parent.span));
                    }
                    d
                });
                self.params(&f.params, "param", &format!("factory {}", f.name.name));
            }
            Item::Template(t) => {
                self.put(t.name.span, t.name.span, |h| {
                    let target = t
                        .target
                        .as_ref()
                        .map_or("group".to_string(), |x| h.text(x.span));
                    format!(
                        "template {}({}): {target}",
                        t.name.name,
                        h.signature(&t.params)
                    )
                });
                self.params(&t.params, "param", &format!("template {}", t.name.name));
            }
            Item::Callback(c) => {
                self.put(c.name.span, c.name.span, |h| {
                    let kind = match c.kind {
                        ast::CallbackKind::Python => "python",
                        ast::CallbackKind::Notifier => "notifier",
                    };
                    format!(
                        "callback {}({}) = {kind} {}",
                        c.name.name,
                        h.signature(&c.params),
                        h.text(c.path_span)
                    )
                });
                self.params(&c.params, "param", &format!("callback {}", c.name.name));
            }
            Item::Mixin(x) => {
                self.put(x.name.span, x.name.span, |h| {
                    format!("mixin {}({})", x.name.name, h.signature(&x.params))
                });
                self.params(&x.params, "param", &format!("mixin {}", x.name.name));
            }
            Item::Asset(a) => {
                let word = if a.is_extern { "extern asset" } else { "asset" };
                self.put(a.name.span, a.name.span, |h| {
                    format!("{word} {} = {}", a.name.name, h.text(a.uri.span))
                });
            }
            Item::Tenant(t) => {
                self.put(t.name.span, t.name.span, |h| {
                    format!("tenant {} {{ {} }}", t.name.name, h.signature(&t.fields))
                });
                self.params(&t.fields, "field", &format!("tenant {}", t.name.name));
            }
            Item::Instance(i) => {
                self.put(i.name.span, i.name.span, |_| {
                    format!("{} {}", i.kind.name, i.name.name)
                });
            }
            Item::Source(s) => {
                self.put(s.name.span, s.name.span, |h| {
                    format!(
                        "source {}: {} = {}{}",
                        s.name.name,
                        h.text(s.ty.span),
                        s.format.name,
                        h.text(s.args_span)
                    )
                });
                self.record_fields(&s.ty, &format!("source {}", s.name.name));
            }
            Item::Stmt(Stmt::Let { name, span, .. }) => {
                self.put(name.span, name.span, |h| h.text(*span));
            }
            Item::ExternDag(_)
            | Item::Profile(_)
            | Item::Pool(_)
            | Item::Stmt(_)
            | Item::Test(_) => {}
        }
    }
}

/// Finds the declaration of a name bound in a body, from the text: the parameters
/// of the declaration around the use, and the `let`s and loops around it that come
/// before it. The innermost, and then the latest, wins, as in the evaluator.
struct Scope<'a> {
    at: Span,
    name: &'a str,
    sources: &'a Sources,
    found: Option<(Span, DefKind, String)>,
}

fn contains(outer: Span, inner: Span) -> bool {
    outer.file == inner.file && outer.start <= inner.start && inner.end <= outer.end
}

fn item_span(item: &Item) -> Span {
    match item {
        Item::Import(x) => x.span,
        Item::Operator(x) => x.span,
        Item::TypeDecl(x) => x.span,
        Item::Factory(x) => x.span,
        Item::Template(x) => x.span,
        Item::Callback(x) => x.span,
        Item::Mixin(x) => x.span,
        Item::Asset(x) => x.span,
        Item::ExternDag(x) => x.span,
        Item::Tenant(x) => x.span,
        Item::Instance(x) => x.span,
        Item::Source(x) => x.span,
        Item::Profile(x) => x.span,
        Item::Pool(x) => x.span,
        Item::Test(x) => x.span,
        Item::Stmt(s) => s.span(),
    }
}

impl Scope<'_> {
    fn bind(&mut self, name: &ast::Ident, kind: DefKind, detail: impl FnOnce(&Self) -> String) {
        if name.name == self.name {
            let d = detail(self);
            self.found = Some((name.span, kind, d));
        }
    }

    fn text(&self, s: Span) -> String {
        one_line(text(self.sources, s))
    }

    fn params(&mut self, params: &[ast::Param], owner: &str, name: &str) {
        for p in params {
            self.bind(&p.name, DefKind::Param, |s| {
                format!("param {} (of {owner} {name})", s.text(p.span))
            });
        }
    }

    fn module(&mut self, m: &ast::Module) {
        // Items are in the order of the text.
        let i = m
            .items
            .partition_point(|it| item_span(it).end <= self.at.start);
        if let Some(item) = m.items.get(i).filter(|it| contains(item_span(it), self.at)) {
            self.item(item);
        }
    }

    fn item(&mut self, item: &Item) {
        match item {
            Item::Factory(f) => {
                self.params(&f.params, "factory", &f.name.name);
                if let Some((target, args)) = &f.extends {
                    self.expr(target);
                    self.args(args);
                }
                self.mixins(&f.mixins);
                self.stmts(&f.body);
            }
            Item::Template(t) => {
                self.params(&t.params, "template", &t.name.name);
                if let Some(x) = &t.target {
                    self.expr(x);
                }
                self.args(t.target_args.as_deref().unwrap_or_default());
                self.mixins(&t.mixins);
                self.stmts(&t.body);
            }
            Item::Mixin(x) => {
                self.params(&x.params, "mixin", &x.name.name);
                self.stmts(&x.body);
            }
            Item::Callback(c) => {
                self.params(&c.params, "callback", &c.name.name);
                self.stmts(&c.body);
            }
            Item::Tenant(t) => {
                self.params(&t.fields, "tenant", &t.name.name);
                if let Some(f) = self.found.as_mut() {
                    f.1 = DefKind::Field;
                }
                for (_, x) in &t.settings {
                    self.expr(x);
                }
                for (_, body) in &t.policy {
                    self.stmts(body);
                }
                for p in &t.pools {
                    self.stmts(&p.body);
                }
            }
            Item::Instance(i) => self.stmts(&i.body),
            Item::Profile(p) => self.stmts(&p.body),
            Item::Pool(p) => self.stmts(&p.body),
            Item::Source(s) => self.args(&s.args),
            Item::Asset(a) => self.expr(&a.uri),
            Item::ExternDag(e) => e.ids.iter().for_each(|x| self.expr(x)),
            Item::Stmt(s) => self.stmts(std::slice::from_ref(s)),
            Item::Test(t) => {
                for s in &t.body {
                    match s {
                        ast::TestStmt::Stmt(s) => self.stmts(std::slice::from_ref(s)),
                        ast::TestStmt::Assert { cond, message, .. } => {
                            self.expr(cond);
                            message.iter().for_each(|m| self.expr(m));
                        }
                        ast::TestStmt::Fixture { value, .. }
                        | ast::TestStmt::Snapshot { value, .. } => self.expr(value),
                        // An expectation names the run's tasks, not bindings.
                        ast::TestStmt::Run { dag, .. } => self.expr(dag),
                        ast::TestStmt::Project { .. } => {}
                    }
                }
            }
            Item::Import(_) | Item::Operator(_) | Item::TypeDecl(_) => {}
        }
    }

    fn args(&mut self, args: &[ast::Arg]) {
        for a in args {
            self.expr(&a.value);
        }
    }

    fn mixins(&mut self, uses: &[ast::MixinUse]) {
        for u in uses {
            self.expr(&u.target);
            self.args(&u.args);
        }
    }

    /// The statements of a block: the one holding the use, after the `let`s before it.
    fn stmts(&mut self, stmts: &[Stmt]) {
        let Some(i) = stmts.iter().position(|s| contains(s.span(), self.at)) else {
            return;
        };
        for s in &stmts[..i] {
            if let Stmt::Let { name, span, .. } = s {
                self.bind(name, DefKind::Let, |sc| sc.text(*span));
            }
        }
        self.stmt(&stmts[i]);
    }

    fn stmt(&mut self, s: &Stmt) {
        match s {
            Stmt::Let { value, .. } | Stmt::Field { value, .. } => self.expr(value),
            Stmt::For {
                var, iter, body, ..
            } => {
                if contains(iter.span, self.at) {
                    return self.expr(iter);
                }
                self.bind(var, DefKind::LoopVar, |sc| {
                    format!("for {} in {}", var.name, sc.text(iter.span))
                });
                self.stmts(body);
            }
            Stmt::If {
                cond,
                then,
                otherwise,
                ..
            } => {
                self.expr(cond);
                self.stmts(then);
                self.stmts(otherwise);
            }
            Stmt::Decl(d) => self.decl(d),
            Stmt::After { body, .. } => self.stmts(body),
            Stmt::Deps { first, rest, .. } => {
                self.expr(first);
                rest.iter().for_each(|(_, x)| self.expr(x));
            }
            Stmt::Params { params, .. } => params
                .iter()
                .filter_map(|p| p.default.as_ref())
                .for_each(|e| self.expr(e)),
            Stmt::Assert(a) => {
                self.expr(&a.cond);
                self.expr(&a.message);
            }
            Stmt::Error(_) => {}
        }
    }

    fn decl(&mut self, d: &ast::Decl) {
        self.expr(&d.name);
        if let Some(t) = &d.target {
            self.expr(t);
        }
        self.args(d.args.as_deref().unwrap_or_default());
        self.mixins(&d.mixins);
        if let Some(s) = &d.scope {
            self.expr(s);
        }
        self.stmts(d.body.as_deref().unwrap_or_default());
    }

    /// Follows the expression down to the use, when it holds it.
    fn expr(&mut self, e: &Expr) {
        if !contains(e.span, self.at) {
            return;
        }
        match &e.kind {
            ExprKind::Str(parts) => parts.iter().for_each(|p| match p {
                StrPart::Interp(x) => self.expr(x),
                StrPart::Text(_) => {}
            }),
            ExprKind::List(xs) => xs.iter().for_each(|x| self.expr(x)),
            ExprKind::Comprehension {
                var,
                iter,
                cond,
                body,
                ..
            } => {
                if contains(iter.span, self.at) {
                    return self.expr(iter);
                }
                self.bind(var, DefKind::LoopVar, |sc| {
                    format!("for {} in {}", var.name, sc.text(iter.span))
                });
                if let Some(c) = cond {
                    self.expr(c);
                }
                self.expr(body);
            }
            ExprKind::Record(fs) => fs.iter().for_each(|(_, x)| self.expr(x)),
            ExprKind::DynRecord(fs) => fs.iter().for_each(|(k, x)| {
                self.expr(k);
                self.expr(x);
            }),
            ExprKind::Field(b, _) | ExprKind::Unary(_, b) => self.expr(b),
            ExprKind::Index(a, b) | ExprKind::Binary(_, a, b) => {
                self.expr(a);
                self.expr(b);
            }
            ExprKind::Call(c, args) => {
                self.expr(c);
                self.args(args);
            }
            ExprKind::If(c, a, b) => {
                self.expr(c);
                self.expr(a);
                self.expr(b);
            }
            ExprKind::Decl(d) => self.decl(d),
            _ => {}
        }
    }
}
