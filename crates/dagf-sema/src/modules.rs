//! Loading: parse every file reachable from the roots, resolve imports relative to the
//! importing file, report missing files and import cycles, and collect declarations.

pub use crate::files::{HttpLimits, ReadError, SqlLimits};
use crate::ids::{
    AssetId, CallbackId, FactoryId, IdVec, InstanceId, KindId, MixinId, ModuleId, OperatorId,
    PoolId, ProfileId, SourceId, TemplateId, TypeId,
};
pub use crate::sources::{Cached, HttpError, Origin, SqlError, Table};
use crate::types::{self, FieldTy, Ty};
use dagf_diag::{Code, Diagnostic, Diagnostics, FileId, Sources, Span};
use dagf_syntax::ast;
use petgraph::graph::{DiGraph, NodeIndex};
use std::collections::HashMap;

/// Where source files come from. The CLI reads the disk; tests serve strings.
pub trait Loader {
    /// The bytes of the file at `path` (a `/`-separated path relative to the project).
    /// Anything but a regular file is refused, never read (a named pipe would block), and
    /// so is a file larger than [`MAX_SOURCE_BYTES`](crate::MAX_SOURCE_BYTES) (a `.dagf` file) or
    /// [`MAX_FILE_BYTES`](crate::MAX_FILE_BYTES) (any other).
    fn read(&self, path: &str) -> Result<Vec<u8>, ReadError>;

    /// The names of the entries in the folder `dir` (relative to the project; `""` is
    /// the project itself), for the `*` of a config source's path. Entries that are not
    /// regular files are listed too: they are refused when read, with a message.
    fn list(&self, dir: &str) -> Result<Vec<String>, String> {
        let _ = dir;
        Err("this loader cannot list folders".to_string())
    }

    /// Whether `path` is a folder (a link to one counts), for a project's source
    /// folders.
    fn is_folder(&self, path: &str) -> bool {
        let _ = path;
        false
    }

    /// The entries of the folder `dir` that are folders themselves (not links to one):
    /// where the search for a project's source files goes on.
    fn subfolders(&self, dir: &str) -> Result<Vec<String>, String> {
        let _ = dir;
        Ok(Vec::new())
    }

    /// The rows `query` gives from the SQLite database at `db` (relative to the
    /// project), opened read-only, within `limits`.
    fn sqlite(&self, db: &str, query: &str, limits: &SqlLimits) -> Result<Table, SqlError> {
        let _ = (db, query, limits);
        Err(SqlError::Open(
            "this loader cannot open databases".to_string(),
        ))
    }

    /// The body of a successful (2xx) answer to a GET of `url`, within `limits`.
    fn http_get(&self, url: &str, limits: &HttpLimits) -> Result<Vec<u8>, HttpError> {
        let _ = (url, limits);
        Err(HttpError::Failed(
            "this loader cannot make requests".to_string(),
        ))
    }

    /// The last good answer kept for `url`, and its age.
    fn cache_read(&self, url: &str) -> Option<Cached> {
        let _ = url;
        None
    }

    /// Keeps a good answer for `url`, with the time it came.
    fn cache_write(&self, url: &str, body: &str) -> Result<(), String> {
        let _ = (url, body);
        Ok(())
    }
}

#[derive(Debug)]
pub struct ModuleInfo {
    pub path: String,
    pub ast: ast::Module,
    /// Names declared in this module.
    pub scope: HashMap<String, Binding>,
    /// Unqualified imports and `as` aliases, resolved.
    pub imports: Vec<ResolvedImport>,
}

#[derive(Debug)]
pub struct ResolvedImport {
    pub target: Option<ModuleId>,
    pub alias: Option<String>,
    pub span: Span,
}

/// What a module-level name stands for.
#[derive(Clone, Debug)]
pub struct Binding {
    pub kind: BindingKind,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub enum BindingKind {
    Operator(OperatorId),
    Factory(FactoryId),
    Type(TypeId),
    Asset(AssetId),
    /// A top-level `let` of this module.
    Let(ModuleId),
    Template(TemplateId),
    Callback(CallbackId),
    Mixin(MixinId),
    /// A tenant kind: `tenant Customer { ... }`.
    Tenant(KindId),
    /// One tenant: `Customer acme { ... }`.
    Instance(InstanceId),
    /// Data read from config files: `source jobs: list<Job> = yaml("jobs/*.yaml")`.
    Source(SourceId),
}

#[derive(Debug)]
pub struct OperatorInfo {
    pub name: String,
    pub module_path: String,
    pub class: String,
    pub is_sensor: bool,
    pub fields: Vec<FieldTy>,
    /// Fields declared with a name no call can pass (E0316, reported at the
    /// declaration): a task setting one is not told again.
    pub rejected: Vec<String>,
    /// Fields declared `templated`: Airflow renders them when the task runs, so they
    /// may hold another task's output.
    pub templated: Vec<String>,
    /// The operator as the IR names it, made once and shared by its tasks.
    pub ir: std::sync::Arc<dagf_ir::OpClass>,
}

#[derive(Debug)]
pub struct FactoryInfo {
    pub module: ModuleId,
    pub decl: std::sync::Arc<ast::FactoryDecl>,
    pub params: Vec<FieldTy>,
}

/// A task or group template, and its resolved parameters.
#[derive(Debug)]
pub struct TemplateInfo {
    pub module: ModuleId,
    pub decl: std::sync::Arc<ast::TemplateDecl>,
    pub params: Vec<FieldTy>,
}

/// A mixin declaration, and its resolved parameters.
#[derive(Debug)]
pub struct MixinInfo {
    pub module: ModuleId,
    pub decl: std::sync::Arc<ast::MixinDecl>,
    pub params: Vec<FieldTy>,
}

/// A callback declaration, and its resolved parameters.
#[derive(Debug)]
pub struct CallbackInfo {
    pub module: ModuleId,
    pub decl: std::sync::Arc<ast::CallbackDecl>,
    pub params: Vec<FieldTy>,
}

/// A tenant kind, and its resolved schema.
#[derive(Debug)]
pub struct TenantInfo {
    pub module: ModuleId,
    pub decl: std::sync::Arc<ast::TenantDecl>,
    pub fields: Vec<FieldTy>,
}

/// A config source: its declaration, its type, and the files its path matched (each
/// already in the source map, so errors can point inside it).
#[derive(Debug)]
pub struct SourceInfo {
    pub module: ModuleId,
    pub decl: std::sync::Arc<ast::SourceDecl>,
    pub ty: Ty,
    pub files: Vec<FileId>,
    /// Whether every file was found and read (else it was reported).
    pub complete: bool,
    /// Files, a query's rows or an HTTP answer.
    pub origin: Origin,
}

/// `profile NAME { ... }`: a layer for every DAG when building for that environment.
#[derive(Debug)]
pub struct ProfileInfo {
    pub module: ModuleId,
    pub decl: std::sync::Arc<ast::ProfileDecl>,
}

/// One tenant, in declaration order (imports first).
#[derive(Debug)]
pub struct InstanceInfo {
    pub module: ModuleId,
    pub decl: std::sync::Arc<ast::InstanceDecl>,
}

/// A `pool` declared at the top level of a module.
#[derive(Debug)]
pub struct PoolInfo {
    pub module: ModuleId,
    pub decl: std::sync::Arc<ast::PoolDecl>,
}

#[derive(Debug)]
pub struct TypeInfo {
    pub ty: Ty,
}

#[derive(Debug)]
pub struct AssetInfo {
    pub module: ModuleId,
}

/// Every module, in an order where imports come before importers, and the
/// declarations they hold.
#[derive(Debug, Default)]
pub struct Program {
    pub modules: IdVec<ModuleId, ModuleInfo>,
    /// Modules, imported before importing.
    pub order: Vec<ModuleId>,
    /// Modules inside an import cycle (already reported); their globals may be unset.
    pub in_cycle: IdVec<ModuleId, bool>,
    pub std_module: ModuleId,
    pub operators: IdVec<OperatorId, OperatorInfo>,
    pub factories: IdVec<FactoryId, FactoryInfo>,
    pub templates: IdVec<TemplateId, TemplateInfo>,
    pub callbacks: IdVec<CallbackId, CallbackInfo>,
    pub mixins: IdVec<MixinId, MixinInfo>,
    pub types: IdVec<TypeId, TypeInfo>,
    pub assets: IdVec<AssetId, AssetInfo>,
    /// Tenant kinds.
    pub tenants: IdVec<KindId, TenantInfo>,
    /// Tenants, in declaration order (imports first).
    pub instances: IdVec<InstanceId, InstanceInfo>,
    pub sources: IdVec<SourceId, SourceInfo>,
    /// Every config document read (source files and the bases they extend), by path.
    pub config_files: HashMap<String, FileId>,
    pub profiles: IdVec<ProfileId, ProfileInfo>,
    /// Pools declared at the top level of a file (a tenant kind's are in its decl).
    pub pools: IdVec<PoolId, PoolInfo>,
    /// A source lists a folder, queries a database or asks a server: the project's
    /// meaning can change while its files do not.
    pub reads_beyond_files: bool,
    /// HTTP answers received while loading, to cache once their data proves good.
    pub fresh_answers: Vec<crate::sources::FreshAnswer>,
    /// Name uses noted for tools, when they are asked for.
    pub(crate) refs: crate::refs::Recorder,
}

impl Program {
    /// Looks a name up as seen from `module`: its own names, then unqualified imports,
    /// then the standard library.
    pub fn lookup(&self, module: ModuleId, name: &str) -> Option<&Binding> {
        let m = &self.modules[module];
        if let Some(b) = m.scope.get(name) {
            return Some(b);
        }
        for imp in &m.imports {
            if let (Some(t), None) = (imp.target, &imp.alias)
                && let Some(b) = self.modules[t].scope.get(name)
            {
                return Some(b);
            }
        }
        self.modules[self.std_module].scope.get(name)
    }

    /// The module an `as` alias names, if `name` is one in `module`.
    pub fn alias(&self, module: ModuleId, name: &str) -> Option<ModuleId> {
        self.modules[module]
            .imports
            .iter()
            .find(|i| i.alias.as_deref() == Some(name))
            .and_then(|i| i.target)
    }

    /// Every name visible from `module`, for "did you mean" suggestions.
    pub fn visible_names(&self, module: ModuleId) -> Vec<&str> {
        let m = &self.modules[module];
        let mut names: Vec<&str> = m.scope.keys().map(String::as_str).collect();
        for imp in &m.imports {
            match (&imp.alias, imp.target) {
                (Some(a), _) => names.push(a),
                (None, Some(t)) => names.extend(self.modules[t].scope.keys().map(String::as_str)),
                _ => {}
            }
        }
        names.extend(
            self.modules[self.std_module]
                .scope
                .keys()
                .map(String::as_str),
        );
        names.sort_unstable();
        names.dedup();
        names
    }

    /// The standard library's record type with this name (`TaskArgs`, `DagArgs`, ...).
    pub fn std_record(&self, name: &str) -> Option<&types::RecordTy> {
        match self.modules[self.std_module].scope.get(name)?.kind {
            BindingKind::Type(t) => match &self.types[t].ty {
                Ty::Record(r) => Some(r),
                _ => None,
            },
            _ => None,
        }
    }
}

/// Joins an import path to the importing file's folder, resolving `.` and `..`.
pub fn resolve_path(from: &str, import: &str) -> String {
    let mut parts: Vec<&str> = from.split('/').collect();
    parts.pop();
    for seg in import.split('/') {
        match seg {
            "" | "." => {}
            ".." if parts.last().is_some_and(|p| *p != "..") => {
                parts.pop();
            }
            s => parts.push(s),
        }
    }
    parts.join("/")
}

pub fn load(
    roots: &[String],
    loader: &dyn Loader,
    sources: &mut Sources,
    diags: &mut Diagnostics,
) -> Program {
    let threads = crate::par::threads(None);
    load_with(
        roots,
        loader,
        &crate::FreshParse,
        threads,
        false,
        sources,
        diags,
    )
}

/// [`load`], parsing through `parser` on up to `threads` threads, and noting where
/// the names types use are defined when `references` asks for it.
pub fn load_with(
    roots: &[String],
    loader: &dyn Loader,
    parser: &dyn crate::Parse,
    threads: usize,
    references: bool,
    sources: &mut Sources,
    diags: &mut Diagnostics,
) -> Program {
    let mut prog = Program {
        refs: crate::refs::Recorder::new(references),
        ..Program::default()
    };
    let mut index: HashMap<String, ModuleId> = HashMap::new();

    let std = crate::std_lib();
    let std_file = sources.add(std.name, std.source);
    prog.std_module = add_module(
        &mut prog,
        std.name.to_string(),
        std_file,
        (parser, sources),
        diags,
    );

    let mut queue: Vec<String> = roots.to_vec();
    queue.sort();
    queue.dedup();
    // The roots are read, then parsed on every core, under the file ids the loop
    // below gives them (in this order, right after the standard library).
    let mut parsed = parse_roots(&queue, loader, sources.len(), parser, threads);
    let mut pending: std::collections::VecDeque<String> = queue.into_iter().collect();
    // Imported files, read when their import is met; and those that could not be read,
    // reported at the first import naming them (not as missing).
    let mut texts: HashMap<String, String> = HashMap::new();
    let mut failed: HashMap<String, Option<Failure>> = HashMap::new();
    let mut failed_roots: Vec<(String, Failure)> = Vec::new();
    while let Some(path) = pending.pop_front() {
        if index.contains_key(&path) {
            continue;
        }
        let (text, pre) = match parsed.remove(&path) {
            Some(Root::Parsed(p)) => (p.text, Some((p.file, p.ast, p.diags))),
            Some(Root::Failed(f)) => {
                // Reported after the loop: a root's text added now would take the
                // file id of the next root. Its imports are not reported again.
                failed.insert(path.clone(), None);
                failed_roots.push((path, f));
                continue;
            }
            None => match texts.remove(&path) {
                Some(t) => (t, None),
                None => continue,
            },
        };
        let file = sources.add(path.clone(), text);
        let m = match pre {
            Some((id, ast, parse_diags)) if id == file => {
                diags.extend(parse_diags);
                prog.modules.push(ModuleInfo {
                    path: path.clone(),
                    ast,
                    scope: HashMap::new(),
                    imports: Vec::new(),
                })
            }
            _ => add_module(&mut prog, path.clone(), file, (parser, sources), diags),
        };
        index.insert(path.clone(), m);
        for item in &prog.modules[m].ast.items {
            if let ast::Item::Import(imp) = item {
                let target = resolve_path(&path, &imp.path);
                if index.contains_key(&target)
                    || parsed.contains_key(&target)
                    || texts.contains_key(&target)
                    || failed.contains_key(&target)
                {
                    pending.push_back(target);
                    continue;
                }
                match read_text(loader, &target) {
                    Ok(text) => {
                        texts.insert(target.clone(), text);
                        pending.push_back(target);
                    }
                    Err(Failure::Read(ReadError::NotFound)) => {}
                    Err(f) => {
                        failed.insert(target, Some(f));
                    }
                }
            }
        }
    }

    for (path, f) in failed_roots {
        report_root(&path, f, sources, diags);
    }

    // Resolve imports now that every reachable file is loaded.
    let known: Vec<String> = index.keys().cloned().collect();
    for m in prog.modules.ids() {
        let path = prog.modules[m].path.clone();
        let mut resolved = Vec::new();
        for item in &prog.modules[m].ast.items {
            let ast::Item::Import(imp) = item else {
                continue;
            };
            let target_path = resolve_path(&path, &imp.path);
            let target = index.get(&target_path).copied();
            if target.is_none() {
                match failed.get_mut(&target_path) {
                    // One unreadable file is one error, however many files import it.
                    Some(f) => {
                        if let Some(f) = f.take() {
                            report_import(&target_path, f, imp.path_span, sources, diags);
                        }
                    }
                    None => diags.push(missing_import(imp, &path, &target_path, &known)),
                }
            }
            resolved.push(ResolvedImport {
                target,
                alias: imp.alias.as_ref().map(|a| a.name.clone()),
                span: imp.span,
            });
        }
        prog.modules[m].imports = resolved;
    }

    (prog.order, prog.in_cycle) = import_order(&prog, diags);
    collect_declarations(&mut prog, diags);
    prog
}

/// E0101 for an import of a file that does not exist, with the nearest known path.
fn missing_import(
    imp: &ast::Import,
    path: &str,
    target_path: &str,
    known: &[String],
) -> Diagnostic {
    let d = Diagnostic::at(
        Code::E0101,
        imp.path_span,
        format!("imported file `{}` not found", imp.path),
        format!("no file at `{target_path}`"),
    )
    .with_note("imports are resolved relative to the importing file's folder");
    let rel: Vec<String> = known.iter().map(|k| relative_to(path, k)).collect();
    // Paths share long prefixes (`lib/`), so the file names must be close too.
    let file_name = |p: &str| p.rsplit('/').next().unwrap_or(p).to_string();
    let wanted = file_name(&imp.path);
    let candidates = rel.iter().map(String::as_str).filter(|c| {
        let f = file_name(c);
        f == wanted || dagf_diag::did_you_mean(&wanted, [f.as_str()]).is_some()
    });
    match dagf_diag::did_you_mean(&imp.path, candidates) {
        Some(c) => d.with_help(format!("did you mean `{c}`?")),
        None => d.with_help("check the path; it is relative to this file"),
    }
}

/// Why a file's text could not be had: it could not be read, or it is not UTF-8.
enum Failure {
    Read(ReadError),
    NotText(crate::files::NotText),
}

/// The text of the file at `path`.
fn read_text(loader: &dyn Loader, path: &str) -> Result<String, Failure> {
    let bytes = loader.read(path).map_err(Failure::Read)?;
    crate::files::decode(bytes).map_err(Failure::NotText)
}

/// Reports a root (a file of the project's source folders) that could not be read.
fn report_root(path: &str, f: Failure, sources: &mut Sources, diags: &mut Diagnostics) {
    match f {
        Failure::NotText(e) => diags.push(crate::files::not_text(path, e, sources).1),
        Failure::Read(e) => diags.push(crate::files::unreadable("the source file", path, &e, None)),
    }
}

/// Reports an imported file that could not be read, at the import.
fn report_import(path: &str, f: Failure, at: Span, sources: &mut Sources, diags: &mut Diagnostics) {
    match f {
        Failure::NotText(e) => {
            let (_, d) = crate::files::not_text(path, e, sources);
            diags.push(d.with_label(at, "imported here"));
        }
        Failure::Read(e) => diags.push(crate::files::unreadable(
            "the imported file",
            path,
            &e,
            Some((at, "imported here")),
        )),
    }
}

fn relative_to(from: &str, target: &str) -> String {
    let from_dir: Vec<&str> = {
        let mut p: Vec<&str> = from.split('/').collect();
        p.pop();
        p
    };
    let to: Vec<&str> = target.split('/').collect();
    let common = from_dir.iter().zip(&to).take_while(|(a, b)| a == b).count();
    let mut out: Vec<&str> = vec![".."; from_dir.len() - common];
    out.extend(&to[common..]);
    out.join("/")
}

/// A root file read and parsed ahead of the loop that loads modules.
struct Parsed {
    text: String,
    file: FileId,
    ast: ast::Module,
    diags: Vec<Diagnostic>,
}

/// A root, parsed, or why it could not be.
enum Root {
    Parsed(Parsed),
    Failed(Failure),
}

/// Reads the roots (in order), then parses them on every core. The `i`-th root read
/// as text gets file id `first + i`, the id the loading loop will give it; one that is
/// not UTF-8 text is added to the source map only when it is reported, after them all.
fn parse_roots(
    roots: &[String],
    loader: &dyn Loader,
    first: usize,
    parser: &dyn crate::Parse,
    threads: usize,
) -> HashMap<String, Root> {
    let mut texts: Vec<(String, String, FileId)> = Vec::new();
    let mut out: HashMap<String, Root> = HashMap::new();
    for path in roots {
        match read_text(loader, path) {
            Ok(text) => {
                let id = FileId((first + texts.len()) as u32);
                texts.push((path.clone(), text, id));
            }
            Err(f) => {
                out.insert(path.clone(), Root::Failed(f));
            }
        }
    }
    let threads = if texts.len() < 8 { 1 } else { threads };
    let trees = crate::par::map(threads, &texts, |(_, text, file)| parser.parse(text, *file));
    // The trees come back in the order of the texts, which move into place beside them.
    for ((path, text, file), (ast, diags)) in texts.into_iter().zip(trees) {
        let parsed = Parsed {
            text,
            file,
            ast,
            diags,
        };
        out.insert(path, Root::Parsed(parsed));
    }
    out
}

fn add_module(
    prog: &mut Program,
    path: String,
    file: FileId,
    (parser, sources): (&dyn crate::Parse, &Sources),
    diags: &mut Diagnostics,
) -> ModuleId {
    let (ast, parse_diags) = parser.parse(&sources.get(file).text, file);
    diags.extend(parse_diags);
    prog.modules.push(ModuleInfo {
        path,
        ast,
        scope: HashMap::new(),
        imports: Vec::new(),
    })
}

/// Orders modules so imports come first; reports each import cycle once, whole.
fn import_order(prog: &Program, diags: &mut Diagnostics) -> (Vec<ModuleId>, IdVec<ModuleId, bool>) {
    let mut g: DiGraph<ModuleId, Span> = DiGraph::new();
    let nodes: IdVec<ModuleId, NodeIndex> = prog.modules.ids().map(|m| g.add_node(m)).collect();
    for (m, module) in prog.modules.enumerate() {
        for imp in &module.imports {
            if let Some(t) = imp.target {
                // Edge from the imported module to the importer: imports come first.
                g.add_edge(nodes[t], nodes[m], imp.span);
            }
        }
    }
    let sccs = petgraph::algo::tarjan_scc(&g);
    let mut order = Vec::new();
    let mut in_cycle = IdVec::filled(prog.modules.len(), false);
    // tarjan_scc yields components in reverse topological order.
    for scc in sccs.iter().rev() {
        let cyclic = scc.len() > 1 || g.find_edge(scc[0], scc[0]).is_some();
        if cyclic {
            report_cycle(prog, &g, scc, diags);
            scc.iter().for_each(|n| in_cycle[g[*n]] = true);
        }
        let mut ms: Vec<ModuleId> = scc.iter().map(|n| g[*n]).collect();
        ms.sort_unstable();
        order.extend(ms);
    }
    (order, in_cycle)
}

fn report_cycle(
    prog: &Program,
    g: &DiGraph<ModuleId, Span>,
    scc: &[NodeIndex],
    diags: &mut Diagnostics,
) {
    // Walk importer -> imported inside the component until we come back to the start.
    let start = *scc
        .iter()
        .min_by_key(|n| prog.modules[g[**n]].path.clone())
        .unwrap_or(&scc[0]);
    let mut path = vec![start];
    let mut spans = Vec::new();
    let mut cur = start;
    loop {
        // Edges point imported -> importer, so follow them backwards.
        let next = g
            .edges_directed(cur, petgraph::Direction::Incoming)
            .filter(|e| scc.contains(&petgraph::visit::EdgeRef::source(e)))
            .min_by_key(|e| {
                prog.modules[g[petgraph::visit::EdgeRef::source(e)]]
                    .path
                    .clone()
            });
        let Some(e) = next else { break };
        let src = petgraph::visit::EdgeRef::source(&e);
        spans.push((*petgraph::visit::EdgeRef::weight(&e), cur, src));
        if src == start || path.contains(&src) || path.len() > scc.len() {
            break;
        }
        path.push(src);
        cur = src;
    }
    let names: Vec<&str> = path
        .iter()
        .map(|n| prog.modules[g[*n]].path.as_str())
        .collect();
    let Some(((first, _, _), rest)) = spans.split_first() else {
        return;
    };
    let mut d = Diagnostic::at(
        Code::E0102,
        *first,
        format!("import cycle: {} -> {}", names.join(" -> "), names[0]),
        format!(
            "`{}` imports `{}`",
            prog.modules[g[spans[0].1]].path, prog.modules[g[spans[0].2]].path
        ),
    );
    for (span, from, to) in rest {
        d = d.with_label(
            *span,
            format!(
                "`{}` imports `{}`",
                prog.modules[g[*from]].path, prog.modules[g[*to]].path
            ),
        );
    }
    diags
        .push(d.with_help("move what both files need into a third file that neither imports back"));
}

fn collect_declarations(prog: &mut Program, diags: &mut Diagnostics) {
    // First names (so types may refer to types declared later), then resolve types.
    for m in prog.modules.ids() {
        let items = std::mem::take(&mut prog.modules[m].ast.items);
        for item in &items {
            let (name, kind) = match item {
                ast::Item::Operator(op) => {
                    let id = prog.operators.push(OperatorInfo {
                        name: op.name.name.clone(),
                        module_path: String::new(),
                        class: op.class.clone(),
                        is_sensor: op.is_sensor,
                        fields: Vec::new(),
                        rejected: Vec::new(),
                        templated: Vec::new(),
                        ir: Default::default(),
                    });
                    (&op.name, BindingKind::Operator(id))
                }
                ast::Item::Factory(f) => {
                    let id = prog.factories.push(FactoryInfo {
                        module: m,
                        decl: std::sync::Arc::new(f.clone()),
                        params: Vec::new(),
                    });
                    (&f.name, BindingKind::Factory(id))
                }
                ast::Item::Template(t) => {
                    let id = prog.templates.push(TemplateInfo {
                        module: m,
                        decl: std::sync::Arc::new(t.clone()),
                        params: Vec::new(),
                    });
                    (&t.name, BindingKind::Template(id))
                }
                ast::Item::Mixin(x) => {
                    let id = prog.mixins.push(MixinInfo {
                        module: m,
                        decl: std::sync::Arc::new(x.clone()),
                        params: Vec::new(),
                    });
                    (&x.name, BindingKind::Mixin(id))
                }
                ast::Item::Callback(c) => {
                    let id = prog.callbacks.push(CallbackInfo {
                        module: m,
                        decl: std::sync::Arc::new(c.clone()),
                        params: Vec::new(),
                    });
                    (&c.name, BindingKind::Callback(id))
                }
                ast::Item::TypeDecl(t) => {
                    let id = prog.types.push(TypeInfo { ty: Ty::Error });
                    (&t.name, BindingKind::Type(id))
                }
                ast::Item::Asset(a) => {
                    let id = prog.assets.push(AssetInfo { module: m });
                    (&a.name, BindingKind::Asset(id))
                }
                ast::Item::Tenant(t) => {
                    let id = prog.tenants.push(TenantInfo {
                        module: m,
                        decl: std::sync::Arc::new(t.clone()),
                        fields: Vec::new(),
                    });
                    (&t.name, BindingKind::Tenant(id))
                }
                ast::Item::Instance(i) => {
                    let id = prog.instances.push(InstanceInfo {
                        module: m,
                        decl: std::sync::Arc::new(i.clone()),
                    });
                    (&i.name, BindingKind::Instance(id))
                }
                ast::Item::Source(src) => {
                    let id = prog.sources.push(SourceInfo {
                        module: m,
                        decl: std::sync::Arc::new(src.clone()),
                        ty: Ty::Error,
                        files: Vec::new(),
                        complete: false,
                        origin: Origin::Files,
                    });
                    (&src.name, BindingKind::Source(id))
                }
                ast::Item::Profile(p) => {
                    match prog
                        .profiles
                        .iter()
                        .find(|q| q.decl.name.name == p.name.name)
                    {
                        Some(prev) => diags.push(
                            Diagnostic::at(
                                Code::E0103,
                                p.name.span,
                                format!("the profile `{}` is declared twice", p.name.name),
                                "declared again here",
                            )
                            .with_label(prev.decl.name.span, "first declared here")
                            .with_help("a project has one profile per environment: merge the two"),
                        ),
                        None => {
                            prog.profiles.push(ProfileInfo {
                                module: m,
                                decl: std::sync::Arc::new(p.clone()),
                            });
                        }
                    }
                    continue;
                }
                ast::Item::Pool(p) => {
                    prog.pools.push(PoolInfo {
                        module: m,
                        decl: std::sync::Arc::new(p.clone()),
                    });
                    continue;
                }
                ast::Item::Stmt(ast::Stmt::Let { name, .. }) => (name, BindingKind::Let(m)),
                _ => continue,
            };
            let scope = &mut prog.modules[m].scope;
            if let Some(prev) = scope.get(&name.name) {
                diags.push(
                    Diagnostic::at(
                        Code::E0103,
                        name.span,
                        format!("`{}` is defined twice", name.name),
                        "defined again here",
                    )
                    .with_label(prev.span, "first defined here")
                    .with_help("rename one of them; every name in a file must be unique"),
                );
                continue;
            }
            scope.insert(
                name.name.clone(),
                Binding {
                    kind,
                    span: name.span,
                },
            );
        }
        prog.modules[m].ast.items = items;
    }

    // Two unqualified imports (or an import and a local name) may not give one name two meanings.
    for m in prog.modules.ids() {
        let mut owner: HashMap<&str, Span> = HashMap::new();
        for imp in &prog.modules[m].imports {
            let (Some(t), None) = (imp.target, &imp.alias) else {
                continue;
            };
            for (name, b) in &prog.modules[t].scope {
                if let Some(local) = prog.modules[m].scope.get(name) {
                    diags.push(
                        Diagnostic::at(
                            Code::E0103,
                            local.span,
                            format!("`{name}` is defined here and also imported"),
                            "defined here",
                        )
                        .with_label(imp.span, format!("this import also brings `{name}`"))
                        .with_label(b.span, "the imported definition")
                        .with_help(
                            "rename one, or import the file with `as` to keep its names qualified",
                        ),
                    );
                } else if let Some(prev) = owner.insert(name, imp.span) {
                    diags.push(
                        Diagnostic::at(
                            Code::E0103,
                            imp.span,
                            format!("`{name}` is imported twice from different files"),
                            format!("this import brings `{name}`"),
                        )
                        .with_label(prev, format!("this import brings another `{name}`"))
                        .with_help("import one of the files with `as` to keep its names qualified"),
                    );
                }
            }
        }
    }

    // Resolve declared types, operator fields and factory parameters.
    for t in prog.types.ids() {
        let Some((m, decl)) = find_item(
            prog,
            |item| match item {
                ast::Item::TypeDecl(d) => Some(d),
                _ => None,
            },
            t,
        ) else {
            continue;
        };
        let ty = types::resolve(prog, m, &decl.ty, &mut Vec::new(), diags);
        let ty = match ty {
            Ty::Record(r) => Ty::Record(std::sync::Arc::new(types::RecordTy {
                name: Some(decl.name.name.clone()),
                ..(*r).clone()
            })),
            other => other,
        };
        prog.types[t].ty = ty;
    }
    for o in prog.operators.ids() {
        let Some((m, decl)) = find_item(
            prog,
            |item| match item {
                ast::Item::Operator(d) => Some(d),
                _ => None,
            },
            o,
        ) else {
            continue;
        };
        let mut fields = param_tys(prog, m, &decl.fields, diags);
        // A field Python or dagfc cannot pass is reported once, and left out, so no
        // task is also asked to set it.
        let mut rejected = Vec::new();
        fields.retain(|f| {
            let owner = format!("operator `{}`", decl.name.name);
            let problem = crate::python::check_kwarg(&f.name, f.span, &owner, &["task_id"]);
            let ok = problem.is_none();
            if !ok {
                rejected.push(f.name.clone());
            }
            diags.extend(problem);
            ok
        });
        let problem = crate::python::check_path(
            &decl.class,
            decl.class_span,
            "class",
            "airflow.providers.standard.operators.bash.BashOperator",
        );
        let (module_path, class) = match (problem, decl.class.rsplit_once('.')) {
            (None, Some((module, class))) => (module.to_string(), class.to_string()),
            (problem, _) => {
                diags.extend(problem);
                (String::new(), decl.class.clone())
            }
        };
        let behaviour = match decl.behaviour {
            ast::OpBehaviour::Unknown => dagf_ir::Behaviour::Unknown,
            ast::OpBehaviour::Plain => dagf_ir::Behaviour::Plain,
            ast::OpBehaviour::Branching => dagf_ir::Behaviour::Branching,
        };
        let templated = decl
            .fields
            .iter()
            .filter(|f| f.templated.is_some())
            .map(|f| f.name.name.clone())
            .collect();
        let op = &mut prog.operators[o];
        op.ir = std::sync::Arc::new(dagf_ir::OpClass {
            name: op.name.clone(),
            module: module_path.clone(),
            class: class.clone(),
            behaviour,
        });
        op.fields = fields;
        op.rejected = rejected;
        op.templated = templated;
        op.module_path = module_path;
        op.class = class;
    }
    for f in prog.factories.ids() {
        let m = prog.factories[f].module;
        let decl = prog.factories[f].decl.clone();
        let params = param_tys(prog, m, &decl.params, diags);
        prog.factories[f].params = params;
    }
    for t in prog.templates.ids() {
        let m = prog.templates[t].module;
        let decl = prog.templates[t].decl.clone();
        prog.templates[t].params = param_tys(prog, m, &decl.params, diags);
    }
    for k in prog.tenants.ids() {
        let m = prog.tenants[k].module;
        let decl = prog.tenants[k].decl.clone();
        prog.tenants[k].fields = param_tys(prog, m, &decl.fields, diags);
    }
    for x in prog.mixins.ids() {
        let m = prog.mixins[x].module;
        let decl = prog.mixins[x].decl.clone();
        prog.mixins[x].params = param_tys(prog, m, &decl.params, diags);
    }
    for c in prog.callbacks.ids() {
        let m = prog.callbacks[c].module;
        let decl = prog.callbacks[c].decl.clone();
        diags.extend(crate::python::check_path(
            &decl.path,
            decl.path_span,
            "function or class",
            "alerts.notify",
        ));
        for s in &decl.body {
            if let ast::Stmt::Field { name, .. } = s {
                diags.extend(crate::python::check_kwarg(
                    &name.name,
                    name.span,
                    &format!("callback `{}`", decl.name.name),
                    &[],
                ));
            }
        }
        prog.callbacks[c].params = param_tys(prog, m, &decl.params, diags);
    }
}

/// Parameters (or fields) as typed slots, resolved in the scope of module `m`.
fn param_tys(
    prog: &Program,
    m: ModuleId,
    params: &[ast::Param],
    diags: &mut Diagnostics,
) -> Vec<FieldTy> {
    params
        .iter()
        .map(|p| types::field_ty(prog, m, &p.name, &p.ty, p.default.clone(), diags))
        .collect()
}

/// The item of id `id` (the `id`-th item `pick` accepts, counting across modules in
/// order: declarations were numbered that way) and its module.
fn find_item<'p, T>(
    prog: &'p Program,
    pick: impl Fn(&'p ast::Item) -> Option<&'p T> + Copy,
    id: impl crate::ids::Id,
) -> Option<(ModuleId, &'p T)> {
    prog.modules
        .enumerate()
        .flat_map(|(m, module)| {
            module
                .ast
                .items
                .iter()
                .filter_map(move |i| Some(m).zip(pick(i)))
        })
        .nth(id.index())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_resolve_relative_to_the_importer() {
        assert_eq!(resolve_path("a/b/c.dagf", "lib.dagf"), "a/b/lib.dagf");
        assert_eq!(resolve_path("a/b/c.dagf", "../lib/x.dagf"), "a/lib/x.dagf");
        assert_eq!(resolve_path("c.dagf", "./d/e.dagf"), "d/e.dagf");
        assert_eq!(relative_to("a/b/c.dagf", "a/lib/x.dagf"), "../lib/x.dagf");
    }
}
