//! The build as a library: reads `dagf.toml`, finds the source files, chooses the
//! environment, checks, optimises and generates, and computes the stamp, all through a
//! [`Loader`] (it touches nothing itself). The command line, and every tool that builds
//! a project (a test runner, a language server, a watch loop), call it; writing the
//! files is the caller's. A [`Session`] builds the same project again cheaply: the
//! trees of files whose text did not change are kept.

mod cache;
pub mod config;
mod env;
mod overlay;
pub mod tests;

pub use config::{CodegenSection, Config, DagRule, FILE, ProjectSection, PythonSection, StyleName};
pub use dagf_ir::Built;
pub use dagf_sema::{DefKind, Loader, Reference, Trace, par};
pub use env::{ENV_VAR, Env, EnvOrigin};
pub use overlay::{MemoryLoader, Overlay};

use dagf_diag::{Code, Diagnostic, FileId, Sources, Span};
use std::collections::BTreeMap;
use std::num::NonZeroUsize;

/// What a build is for, which decides what it keeps.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Goal {
    /// Diagnostics and the IR as evaluated (not optimised).
    #[default]
    Check,
    /// Diagnostics only: each dag is dropped as soon as it is checked, so the IR is never
    /// held whole (`dagfc check` of a large project). The build's IR has no dags: its
    /// `built` has an entry without text for each.
    Diagnostics,
    /// [`Goal::Check`], each value keeping the layers that set it.
    Explain,
    /// The optimised IR.
    Ir,
    /// The optimised IR and every dag's file made from it.
    Python,
    /// Every dag's file, each made as soon as its dag is (the IR is never held whole),
    /// and the stamp: what a build that writes files needs.
    Files,
}

/// A build's options.
#[derive(Clone)]
pub struct Options {
    /// What to make: diagnostics only, the IR, or every dag's file (see [`Goal`]).
    pub goal: Goal,
    /// The environment asked for (the command line's `--env`).
    pub env: Option<String>,
    /// The environment variables `getenv` may read; `DAGF_ENV` among them chooses the
    /// environment when `env` does not.
    pub env_vars: BTreeMap<String, String>,
    /// 0 keeps edges and arguments as written; 1 optimises.
    pub opt_level: u8,
    /// One style for every dag, instead of what `dagf.toml` says dag by dag.
    pub style: Option<StyleName>,
    /// How many threads the work is spread over (default: one per core).
    pub threads: Option<NonZeroUsize>,
    /// The Airflow version built for, over `[target] airflow` in `dagf.toml`.
    pub target: Option<dagf_target::Version>,
    /// Keep where each name used is defined ([`Build::references`]), for go to
    /// definition, hover and find references in an editor. Off by default: a build
    /// that only writes files has no use for it.
    pub references: bool,
    /// Told when each phase, module and dag of the build is done, for `--timings`,
    /// `--trace` and `--metrics` (the caller's clock: the driver reads none).
    pub trace: Option<std::sync::Arc<dyn dagf_sema::Trace>>,
    /// The dags whose files to make (`--only`, `--tenant`); the whole project is still
    /// checked, but the others are not generated.
    pub select: Selection,
    /// Keep each module's results (with [`Goal::Check`], [`Goal::Diagnostics`] and
    /// [`Goal::Files`], without `references`) and reuse them when nothing a module depends on changed: in the
    /// session's memory, and in `store` when there is one (the command line's is
    /// `.dagf-cache/modules/`). Off by default.
    pub incremental: bool,
    /// Where module results outlive the session (read when the memory has none).
    pub store: Option<std::sync::Arc<dyn dagf_sema::ModuleCache>>,
}

/// A part of a project: the dags whose id matches one of `dags` (globs, `*` for any
/// run of characters) and that are in one of `tenants`; an empty list selects all.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Selection {
    /// Patterns of dag ids.
    pub dags: Vec<String>,
    /// Tenant names.
    pub tenants: Vec<String>,
}

impl Selection {
    /// Whether the whole project is selected.
    pub fn is_all(&self) -> bool {
        self.dags.is_empty() && self.tenants.is_empty()
    }

    /// Whether the dag `dag_id`, placed in `tenant`, is selected.
    pub fn selects(&self, dag_id: &str, tenant: Option<&str>) -> bool {
        (self.dags.is_empty() || self.dags.iter().any(|p| dagf_sema::glob_match(p, dag_id)))
            && (self.tenants.is_empty()
                || tenant.is_some_and(|t| self.tenants.iter().any(|n| n == t)))
    }

    /// E0410 when a selection leaves out every dag of `dag_ids` (with their tenants).
    pub fn check<'a>(
        &self,
        dags: impl Iterator<Item = (&'a str, Option<&'a str>)> + Clone,
    ) -> Result<(), Box<Diagnostic>> {
        if self.is_all() || dags.clone().any(|(d, t)| self.selects(d, t)) {
            return Ok(());
        }
        let mut what: Vec<String> = self.dags.iter().map(|p| format!("--only {p}")).collect();
        what.extend(self.tenants.iter().map(|t| format!("--tenant {t}")));
        let mut d = Diagnostic::new(
            Code::E0410,
            format!("`{}` selects no dag of the project", what.join(" ")),
        );
        let tenants: Vec<&str> = {
            let mut t: Vec<&str> = dags.clone().filter_map(|(_, t)| t).collect();
            t.sort_unstable();
            t.dedup();
            t
        };
        if let Some(t) = self.tenants.iter().find(|t| !tenants.contains(&t.as_str())) {
            if let Some(m) = dagf_diag::did_you_mean(t, tenants.iter().copied()) {
                d = d.with_note(format!("there is no tenant `{t}`; did you mean `{m}`?"));
            }
        } else if let Some(p) = self.dags.iter().find(|p| !p.contains(['*', '?']))
            && let Some(m) = dagf_diag::did_you_mean(p, dags.map(|(d, _)| d))
        {
            d = d.with_note(format!("there is no dag `{p}`; did you mean `{m}`?"));
        }
        Err(Box::new(d.with_help(
            "`dagfc ls` lists the dags and their tenants; `*` in a pattern matches any run of characters",
        )))
    }
}

impl std::fmt::Debug for Options {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Options")
            .field("goal", &self.goal)
            .field("env", &self.env)
            .field("opt_level", &self.opt_level)
            .field("style", &self.style)
            .field("threads", &self.threads)
            .field("target", &self.target)
            .field("references", &self.references)
            .field("select", &self.select)
            .field("incremental", &self.incremental)
            .field("store", &self.store.is_some())
            .finish_non_exhaustive()
    }
}

impl Default for Options {
    fn default() -> Self {
        Options {
            goal: Goal::Check,
            env: None,
            env_vars: BTreeMap::new(),
            opt_level: 1,
            style: None,
            threads: None,
            target: None,
            references: false,
            trace: None,
            select: Selection::default(),
            incremental: false,
            store: None,
        }
    }
}

/// What a build was made from: when none of it changed, a build that wrote files and
/// finds them as it left them has nothing to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stamp {
    /// dagf's version, the build options and `dagf.toml`, hashed.
    pub key: String,
    /// Every source file the build read, with the hash of its text.
    pub inputs: Vec<(String, String)>,
    /// Warnings the build reported (a build with nothing to do mentions them).
    pub warnings: usize,
}

/// A project: its settings, `dagf.toml` in a source map of its own (file 0), and its
/// source files.
#[derive(Debug)]
pub struct Project {
    /// `dagf.toml`'s settings, checked.
    pub config: Config,
    /// A source map holding `dagf.toml` as file 0, for diagnostics that point into it.
    pub sources: Sources,
    /// The `.dagf` files of the source folders, `/`-separated, sorted.
    pub files: Vec<String>,
}

impl Project {
    /// Reads `dagf.toml` and lists the source folders; a build that stops there (with
    /// its one error) when either fails.
    pub fn load(loader: &dyn Loader) -> Result<Project, Box<Build>> {
        let mut sources = Sources::new();
        let config = match config::load(loader, &mut sources) {
            Ok(c) => c,
            Err(d) => return Err(Box::new(Build::stopped(sources, *d))),
        };
        match config::source_files(&config, loader) {
            Ok(files) => Ok(Project {
                config,
                sources,
                files,
            }),
            Err(d) => Err(Box::new(Build::stopped(sources, *d))),
        }
    }

    /// `dagf.toml`'s file in every build's source map.
    pub fn toml(&self) -> FileId {
        FileId(0)
    }

    /// The environment `options` build for, and where the choice comes from.
    pub fn env(&self, options: &Options) -> Option<Env> {
        env::choose(
            options.env.as_deref(),
            &options.env_vars,
            &self.config,
            self.toml(),
        )
    }

    /// The Airflow `options` build for: the option, else `[target] airflow`.
    pub fn target(&self, options: &Options) -> dagf_target::Target {
        dagf_target::Target::new(
            options
                .target
                .unwrap_or_else(|| self.config.target.version()),
        )
    }

    /// The checker's options for a build with `options` for the environment `env`.
    pub fn sema_options(&self, options: &Options, env: Option<&Env>) -> dagf_sema::Options {
        dagf_sema::Options {
            env_vars: options.env_vars.clone(),
            skip_provenance: options.goal != Goal::Explain,
            env: env.map(|e| e.name.clone()),
            env_origin: env.map(|e| e.origin.describe()).unwrap_or_default(),
            env_chosen_at: env.and_then(|e| e.origin.span()),
            threads: options.threads,
            target: self.target(options),
            references: options.references,
            trace: options.trace.clone(),
            cache: None,
        }
    }

    /// How a dag is written: its style (the option, else `dagf.toml`'s rule for it) and target.
    fn py_options(&self, dag: &dagf_ir::Dag, options: &Options) -> dagf_py::Options {
        dagf_py::Options {
            style: options
                .style
                .unwrap_or_else(|| self.config.codegen.style_of(&dag.dag_id))
                .style(),
            target: self.target(options),
        }
    }

    /// Runs the optimiser passes `options` ask for on one dag.
    pub fn optimise(&self, dag: &mut dagf_ir::Dag, options: &Options) {
        let passes = match options.opt_level {
            0 => dagf_ir::passes::Options::NONE,
            _ => dagf_ir::passes::Options::DEFAULT,
        };
        // `@task` hands `default_args` entries to the function by parameter name,
        // so an argument moved there could reach the function.
        let passes = dagf_ir::passes::Options {
            hoist_default_args: passes.hoist_default_args
                && !dagf_py::decorates_tasks(dag, self.py_options(dag, options)),
            ..passes
        };
        dagf_ir::passes::run(dag, passes, dagf_sema::is_common_task_arg)
    }

    /// One (optimised) dag's file, as a build with `options` writes it.
    pub fn generate(&self, dag: &dagf_ir::Dag, options: &Options) -> Built {
        Built {
            dag_id: dag.dag_id.clone(),
            span: dag.span,
            folder: dag.folder.clone(),
            file: dagf_py::file_name(dag),
            text: dagf_py::generate_with(dag, self.py_options(dag, options)),
            tasks: dag.graph.node_count(),
            tenant: dag.scope.as_ref().map(|s| s.tenant.clone()),
        }
    }

    /// The key of a build's [`Stamp`]: dagf's version, the options that change the
    /// files, `dagf.toml` and the list of source files, hashed.
    pub fn stamp_key(&self, options: &Options) -> String {
        let env = self.env(options).map(|e| e.name);
        let described = format!(
            "-O{} {:?} env={:?} target={}",
            options.opt_level,
            options.style,
            env.as_ref(),
            self.target(options).version.as_str()
        );
        dagf_sema::stable_hash(&[
            env!("CARGO_PKG_VERSION"),
            &described,
            &self.sources.get(self.toml()).text,
            &self.files.join("\n"),
        ])
    }
}

/// What a build made.
#[derive(Debug)]
pub struct Build {
    /// Every file read (`dagf.toml` first), for the diagnostics to point into.
    pub sources: Sources,
    /// Sorted by place.
    pub diagnostics: Vec<Diagnostic>,
    /// How many of the diagnostics are errors (any stops the build).
    pub errors: usize,
    /// How many are warnings.
    pub warnings: usize,
    /// The environment built for.
    pub env: Option<Env>,
    /// The IR, when there was no error (with [`Goal::Files`], its dags went into
    /// `files` as they were made).
    pub ir: Option<dagf_ir::Project>,
    /// One file per dag (with [`Goal::Python`] and [`Goal::Files`], when there was no
    /// error), in the order of the dags.
    pub files: Vec<Built>,
    /// With [`Goal::Files`], for the next build to tell nothing changed; none when the
    /// project reads more than its files (`getenv`, a folder's listing, a database, a
    /// server), which can change while the files do not.
    pub stamp: Option<Stamp>,
    /// With [`Options::references`], every name use the build resolved, with its
    /// declaration, sorted by the use's place (see [`Build::definition_at`] and
    /// [`Build::references_to`]). A project with errors keeps the uses that resolved.
    /// Declarations in the standard library point into its file in `sources`. Only
    /// what the build evaluates is there: a use in an `if` branch no dag takes is not.
    /// Built-in functions, `env` and the names a tenant kind gives (`tenant`, `dag`)
    /// have no declaration, so no reference.
    pub references: Vec<Reference>,
}

impl Build {
    /// Whether the build had no error.
    pub fn ok(&self) -> bool {
        self.errors == 0
    }

    /// The name use at byte `offset` of `file` (a name's end counts as in it, for a
    /// cursor just after it), with where it is defined and what it is: for go to
    /// definition and hover. Found by binary search.
    pub fn definition_at(&self, file: FileId, offset: usize) -> Option<&Reference> {
        let offset = u32::try_from(offset).ok()?;
        let after = self
            .references
            .partition_point(|r| (r.at.file, r.at.start) <= (file, offset));
        let r = self.references.get(after.checked_sub(1)?)?;
        (r.at.file == file && offset <= r.at.end).then_some(r)
    }

    /// Every use of the declaration whose name is at `def` (the [`Reference::def`] of
    /// one of them), in the order of the text: for find references.
    pub fn references_to(&self, def: Span) -> impl Iterator<Item = &Reference> {
        self.references.iter().filter(move |r| r.def == def)
    }

    /// A build that stopped before checking anything, with its one error.
    fn stopped(sources: Sources, d: Diagnostic) -> Build {
        Build {
            sources,
            diagnostics: vec![d],
            errors: 1,
            warnings: 0,
            env: None,
            ir: None,
            files: Vec::new(),
            stamp: None,
            references: Vec::new(),
        }
    }
}

/// Builds a project once.
pub fn build(loader: &dyn Loader, options: &Options) -> Build {
    Session::once().build(loader, options)
}

/// Builds one project again and again (after edits), keeping what it can.
#[derive(Default)]
pub struct Session {
    cache: cache::ParseCache,
    modules: std::sync::Arc<cache::Modules>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("parses", &self.parses())
            .field("evaluated", &self.evaluated())
            .finish()
    }
}

/// Lists of fewer items are not worth a thread.
const PAR_MIN: usize = 64;

impl Session {
    /// A session with nothing kept yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// A session for a single build, which keeps nothing in memory for a next one (a
    /// tool that builds once and exits: it saves a copy of every file's text and tree,
    /// and of every module's results; the store on disk is still written).
    pub fn once() -> Self {
        Self {
            cache: cache::ParseCache::once(),
            modules: std::sync::Arc::new(cache::Modules::once()),
        }
    }

    /// How many files this session has parsed (rather than found unchanged).
    pub fn parses(&self) -> usize {
        self.cache.parses()
    }

    /// How many modules this session has evaluated (rather than found in a cache) in
    /// incremental builds.
    pub fn evaluated(&self) -> usize {
        self.modules.evaluated()
    }

    /// Loads the project `loader` reads and builds it.
    pub fn build(&self, loader: &dyn Loader, options: &Options) -> Build {
        match Project::load(loader) {
            Ok(project) => self.build_project(&project, loader, options),
            Err(stopped) => *stopped,
        }
    }

    /// Builds a loaded project (`loader` is the one it was loaded through).
    pub fn build_project(
        &self,
        project: &Project,
        loader: &dyn Loader,
        options: &Options,
    ) -> Build {
        let env = project.env(options);
        let threads = par::threads(options.threads);
        let goal = options.goal;
        let mut sema = project.sema_options(options, env.as_ref());
        let texts = goal == Goal::Files;
        let checks = matches!(goal, Goal::Check | Goal::Diagnostics);
        if options.incremental && (texts || checks) && !options.references {
            self.modules.over(options.store.clone());
            let selected = format!("{:?} {:?}", options.select.dags, options.select.tenants);
            sema.cache = Some(dagf_sema::Caching {
                store: self.modules.clone(),
                key: dagf_sema::stable_hash(&[
                    &project.stamp_key(options),
                    dagf_sema::std_lib().source,
                    if texts { "files" } else { "check" },
                    &selected,
                ]),
                texts,
            });
        }
        let codegen = &project.config.codegen;
        let optimise = |dag: &mut dagf_ir::Dag| project.optimise(dag, options);
        let generate = |dag: &dagf_ir::Dag| project.generate(dag, options);
        // Files are made as soon as each dag is, on the thread that made it.
        let trace = options.trace.as_deref();
        let select = &options.select;
        let to_file = |mut dag: dagf_ir::Dag| {
            let tenant = dag.scope.as_ref().map(|s| s.tenant.as_str());
            if !select.selects(&dag.dag_id, tenant) {
                // Left out: checked, not generated (and dropped below).
                return generate_none(&dag);
            }
            let started = trace.map_or(0, |t| t.now());
            optimise(&mut dag);
            let mut file = generate(&dag);
            // Only the text is kept, for every dag until the build ends: not its slack.
            file.text.shrink_to_fit();
            if let Some(t) = trace {
                t.done("generate", &file.dag_id, started);
            }
            file
        };
        let drop_dag = |dag: dagf_ir::Dag| generate_none(&dag);
        let emit: Option<&dagf_sema::Emit> = match goal {
            Goal::Files => Some(&to_file),
            Goal::Diagnostics => Some(&drop_dag),
            _ => None,
        };
        let checked = dagf_sema::check_with(
            &project.files,
            loader,
            &sema,
            emit,
            project.sources.clone(),
            &self.cache,
        );
        self.cache.keep_used();
        if sema.cache.is_some() {
            self.modules.keep_used();
            self.modules.over(None);
        }
        let dagf_sema::Checked {
            sources,
            project: ir,
            diagnostics,
            reads_beyond_files,
            references,
        } = checked;
        let mut build = Build {
            errors: diagnostics.error_count(),
            warnings: diagnostics.warning_count(),
            diagnostics: diagnostics.into_sorted(),
            sources,
            env,
            ir: None,
            files: Vec::new(),
            stamp: None,
            references,
        };
        let Some(mut ir) = ir else {
            return build;
        };
        if goal == Goal::Diagnostics {
            build.ir = Some(ir);
            return build;
        }
        // A `[[codegen.dags]]` rule that matches no dag is a mistake of a build that
        // chooses styles by them.
        if goal != Goal::Check && goal != Goal::Explain && options.style.is_none() {
            let dag_ids = ir
                .dags
                .iter()
                .map(|d| d.dag_id.as_str())
                .chain(ir.built.iter().map(|b| b.dag_id.as_str()));
            if let Err(d) = codegen.check_rules(dag_ids, project.toml()) {
                build.diagnostics.push(*d);
                build.errors += 1;
                return build;
            }
        }
        if goal != Goal::Check && goal != Goal::Explain {
            let dags = ir
                .dags
                .iter()
                .map(|d| {
                    (
                        d.dag_id.as_str(),
                        d.scope.as_ref().map(|s| s.tenant.as_str()),
                    )
                })
                .chain(
                    ir.built
                        .iter()
                        .map(|b| (b.dag_id.as_str(), b.tenant.as_deref())),
                );
            if let Err(d) = options.select.check(dags) {
                build.diagnostics.push(*d);
                build.errors += 1;
                return build;
            }
            ir.dags
                .retain(|d| select.selects(&d.dag_id, d.scope.as_ref().map(|s| s.tenant.as_str())));
            ir.built
                .retain(|b| select.selects(&b.dag_id, b.tenant.as_deref()));
        }
        let threads_for = |n: usize| if n < PAR_MIN { 1 } else { threads };
        match goal {
            Goal::Check | Goal::Diagnostics | Goal::Explain => {}
            Goal::Ir => par::each_mut(threads_for(ir.dags.len()), &mut ir.dags, optimise),
            Goal::Python => {
                par::each_mut(threads_for(ir.dags.len()), &mut ir.dags, optimise);
                build.files = par::map(threads_for(ir.dags.len()), &ir.dags, generate);
                build.files.extend(project_files(&ir, &project.config));
            }
            Goal::Files => {
                build.files = std::mem::take(&mut ir.built);
                build.files.extend(project_files(&ir, &project.config));
                // A project that reads the environment (`getenv`) or more than its
                // files is always built again.
                let reads_env = build.sources.iter().any(|(_, f)| f.text.contains("getenv"));
                // A part of the project says nothing of the rest: no stamp.
                if !reads_env && !reads_beyond_files && select.is_all() {
                    build.stamp = Some(Stamp {
                        key: project.stamp_key(options),
                        inputs: build
                            .sources
                            .iter()
                            .filter(|(_, f)| !f.name.starts_with('<') && f.name != FILE)
                            .map(|(_, f)| (f.name.clone(), dagf_sema::stable_hash(&[&f.text])))
                            .collect(),
                        warnings: build.warnings,
                    });
                }
            }
        }
        build.ir = Some(ir);
        build
    }
}

/// A dag's file entry without its text, for a dag the selection leaves out.
fn generate_none(dag: &dagf_ir::Dag) -> Built {
    Built {
        dag_id: dag.dag_id.clone(),
        span: dag.span,
        folder: dag.folder.clone(),
        file: dagf_py::file_name(dag),
        text: String::new(),
        tasks: dag.graph.node_count(),
        tenant: dag.scope.as_ref().map(|s| s.tenant.clone()),
    }
}

/// The files of the project as a whole, after its dags' files: the pools file, and for
/// teams the bundle list and the `.airflowignore` that goes with it.
fn project_files(ir: &dagf_ir::Project, config: &Config) -> Vec<Built> {
    let mut files: Vec<Built> = dagf_py::pools_file(&ir.pools).into_iter().collect();
    for (file, text) in dagf_py::team_files(&ir.teams, &config.target.dags_folder) {
        files.push(Built {
            dag_id: String::new(),
            span: dagf_diag::Span::new(dagf_diag::FileId(0), 0, 0),
            folder: String::new(),
            file: file.to_string(),
            text,
            tasks: 0,
            tenant: None,
        });
    }
    files
}
