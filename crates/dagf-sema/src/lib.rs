//! Semantics: modules and names, types, evaluation of factories and DAG bodies, the
//! DAG checks, and lowering to the IR. Pure: files come in through a [`Loader`].

mod assets;
mod builtins;
mod checks;
mod config;
mod cron;
mod dag;
mod documents;
mod eval;
mod files;
mod ids;
mod layers;
mod lints;
mod modules;
pub mod par;
mod pools;
mod python;
mod refs;
mod rules;
mod schema;
mod scopes;
mod sources;
mod testing;
mod trace;
mod types;
mod value;
mod words;

pub use assets::{normalize as normalize_asset_uri, uri_problem as asset_uri_problem};
pub use eval::{Caching, ModuleCache, ModuleResult};
pub use files::{
    HttpLimits, MAX_DATA_BYTES, MAX_FILE_BYTES, MAX_SOURCE_BYTES, NotText, ReadError, SQL_MAX_ROWS,
    SQL_TIMEOUT, SqlLimits, bytes, decode, not_text,
};
pub use modules::Loader;
pub use refs::{DefKind, Reference};
pub use schema::schema;
pub use sources::{Cached, Cell, HttpError, SqlError, SqlLimit, Table};
pub use testing::{
    DeclaredSource, Discovery, Expectation, Fixture, FixtureData, RUN_STATES, RunPlan, SourceKind,
    TASK_STATES, TestCase, TestRun, declared_sources, find_tests, rows_from_json, run_test,
};
pub use trace::Trace;

use dagf_diag::{Diagnostics, Sources};
use std::collections::BTreeMap;

/// What a compilation needs besides the files.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Compile-time environment variables that `getenv` may read.
    pub env_vars: BTreeMap<String, String>,
    /// Leave out which layers set each value (kept for `dagfc explain-value`); a build
    /// does not need it, and it is a large part of the IR's memory.
    pub skip_provenance: bool,
    /// The environment built for (`--env`, `DAGF_ENV`, `default_env`): its profile is
    /// the last layer of every DAG, and `env` in expressions is its name.
    pub env: Option<String>,
    /// Where the environment's name came from, for messages (`--env`, ...).
    pub env_origin: String,
    /// Where the environment is chosen in a file of the project (`default_env` in
    /// `dagf.toml`, a file the caller put into the source map): an unknown one is
    /// shown there.
    pub env_chosen_at: Option<dagf_diag::Span>,
    /// How many threads the work is spread over (default: one per core).
    pub threads: Option<std::num::NonZeroUsize>,
    /// The Airflow version built for: a feature it lacks is an error.
    pub target: dagf_target::Target,
    /// Note where each name used is defined ([`Checked::references`]), for tools; a
    /// build that only makes files leaves it off.
    pub references: bool,
    /// Told when each phase, module and dag of the build is done (`--timings`,
    /// `--trace`); none by default.
    pub trace: Option<std::sync::Arc<dyn Trace>>,
    /// Where each module's dags, once made, are kept for the next build, and found
    /// instead of made again when nothing they depend on changed; none by default.
    pub cache: Option<Caching>,
}

/// How a module's text becomes its tree: a tool that builds the same project again
/// keeps the trees of the files that did not change. Called from several threads.
pub trait Parse: Sync {
    /// The tree and syntax diagnostics of `text`, the file `file`.
    fn parse(
        &self,
        text: &str,
        file: dagf_diag::FileId,
    ) -> (dagf_syntax::ast::Module, Vec<dagf_diag::Diagnostic>);
}

/// Parses every time.
#[derive(Clone, Copy, Debug, Default)]
pub struct FreshParse;

impl Parse for FreshParse {
    fn parse(
        &self,
        text: &str,
        file: dagf_diag::FileId,
    ) -> (dagf_syntax::ast::Module, Vec<dagf_diag::Diagnostic>) {
        dagf_syntax::parse(text, file)
    }
}

/// The result of checking a project: the IR when there were no errors, and every
/// diagnostic (errors and lints) met on the way.
#[derive(Debug)]
pub struct Checked {
    /// Every file read (sources, configs, query rows and answers as JSON), for rendering the diagnostics.
    pub sources: Sources,
    /// The IR, or what the `Emit` step made of it; `None` if there was an error.
    pub project: Option<dagf_ir::Project>,
    /// Every error and lint, one per mistake.
    pub diagnostics: Diagnostics,
    /// The result depends on more than the text of the files read (a config source's
    /// `*` lists a folder, a database, a server): a tool may not assume it is unchanged
    /// when they are.
    pub reads_beyond_files: bool,
    /// With [`Options::references`], every name use resolved (errors or not) and its
    /// declaration, sorted by the use's place; else empty.
    pub references: Vec<Reference>,
}

/// A build's step for each DAG, taken as soon as the DAG is made and checked, on the
/// core that made it: it turns the DAG into its file, so that the IR of a large
/// project is never held whole. If the project has an error, what it made is dropped.
pub type Emit<'e> = dyn Fn(dagf_ir::Dag) -> dagf_ir::Built + Sync + 'e;

/// Checks `text` as the one file `name` of a project of its own, importing nothing: how
/// a tool checks the `.dagf` text it generated before handing it over.
pub fn check_text(name: &str, text: &str) -> Checked {
    struct OneFile<'a>(&'a str, &'a str);
    impl Loader for OneFile<'_> {
        fn read(&self, path: &str) -> Result<Vec<u8>, ReadError> {
            if path == self.0 {
                Ok(self.1.as_bytes().to_vec())
            } else {
                Err(ReadError::NotFound)
            }
        }
    }
    check(
        &[name.to_string()],
        &OneFile(name, text),
        &Options::default(),
    )
}

/// Checks the project made of `roots` (paths the loader understands, such as
/// `pipelines/daily.dagf`) and everything they import.
pub fn check(roots: &[String], loader: &dyn Loader, options: &Options) -> Checked {
    check_and_emit(roots, loader, options, None)
}

/// [`check`], handing each DAG to `emit` once it is made: the project then holds
/// what `emit` returned (`built`) instead of the DAGs.
pub fn check_and_emit(
    roots: &[String],
    loader: &dyn Loader,
    options: &Options,
    emit: Option<&Emit>,
) -> Checked {
    check_with(roots, loader, options, emit, Sources::new(), &FreshParse)
}

/// [`check_and_emit`], for tools: `sources` already holds files the caller's
/// diagnostics point into (such as `dagf.toml`), and `parser` makes the trees.
pub fn check_with(
    roots: &[String],
    loader: &dyn Loader,
    options: &Options,
    emit: Option<&Emit>,
    mut sources: Sources,
    parser: &dyn Parse,
) -> Checked {
    let mut diags = Diagnostics::new();
    let threads = par::threads(options.threads);
    let tr = options.trace.as_deref();
    let t = trace::now(tr);
    let mut program = modules::load_with(
        roots,
        loader,
        parser,
        threads,
        options.references,
        &mut sources,
        &mut diags,
    );
    trace::done(tr, "phase", "load and parse", t);
    let t = trace::now(tr);
    sources::read(
        &mut program,
        loader,
        options.env.as_deref(),
        &mut sources,
        &mut diags,
    );
    trace::done(tr, "phase", "config sources", t);
    let t = trace::now(tr);
    lints::run(&program, &mut diags);
    trace::done(tr, "phase", "lints", t);
    let t = trace::now(tr);
    let project = eval::run(&program, &sources, options, emit, &mut diags);
    trace::done(tr, "phase", "evaluate, check and generate", t);
    sources::keep_answers(&program.fresh_answers, loader, &mut diags);
    let references = match options.references {
        true => refs::finish(&program, &sources),
        false => Vec::new(),
    };
    let project = if diags.has_errors() {
        None
    } else {
        Some(project)
    };
    Checked {
        sources,
        project,
        diagnostics: diags.one_per_place(),
        reads_beyond_files: program.reads_beyond_files,
        references,
    }
}

/// The standard library embedded in dagfc.
#[derive(Debug)]
pub struct StdLib {
    /// The name its diagnostics show as its file.
    pub name: &'static str,
    /// Its text.
    pub source: &'static str,
    /// Its declarations, parsed once, for tools that read them. The tree's spans point
    /// nowhere: a build loads the text as a file of its own, with its own id.
    pub tree: dagf_syntax::ast::Module,
}

/// The standard library: the one place its name, text and tree come from.
pub fn std_lib() -> &'static StdLib {
    static STD: std::sync::OnceLock<StdLib> = std::sync::OnceLock::new();
    STD.get_or_init(|| {
        let source = include_str!("std/std.dagf");
        StdLib {
            name: "<std>/std.dagf",
            source,
            tree: dagf_syntax::parse(source, dagf_diag::FileId(u32::MAX)).0,
        }
    })
}

/// Whether every operator accepts this argument (so it may move into `default_args`).
pub fn is_common_task_arg(name: &str) -> bool {
    static NAMES: std::sync::OnceLock<Vec<&'static str>> = std::sync::OnceLock::new();
    NAMES
        .get_or_init(|| {
            std_lib()
                .tree
                .items
                .iter()
                .find_map(|i| match i {
                    dagf_syntax::ast::Item::TypeDecl(t) if t.name.name == "TaskArgs" => {
                        match &t.ty.kind {
                            dagf_syntax::ast::TypeKind::Record(fields, _) => {
                                Some(fields.iter().map(|f| f.name.name.as_str()).collect())
                            }
                            _ => None,
                        }
                    }
                    _ => None,
                })
                .unwrap_or_default()
        })
        .contains(&name)
}

/// The one hasher of the project: FNV-1a, 64 bits. Its value is the same on every
/// machine, in every run and in every build of dagfc (the standard library's hasher
/// promises none of that), so a hash may name a cache file or stamp a build; the
/// in-memory indexes use it too, so that no hash can reach output or a file and
/// differ between runs. For short keys it is also faster than the standard one.
#[derive(Clone, Copy, Debug)]
pub struct StableHasher(u64);

impl Default for StableHasher {
    fn default() -> Self {
        StableHasher(0xcbf2_9ce4_8422_2325)
    }
}

impl std::hash::Hasher for StableHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// A [`StableHasher`] hash of some texts (the parts kept apart by a byte UTF-8 never
/// holds), as 16 hex digits: it names cache files and stamps builds.
pub fn stable_hash(parts: &[&str]) -> String {
    use std::hash::Hasher;
    let mut h = StableHasher::default();
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            h.write(&[0xff]);
        }
        h.write(part.as_bytes());
    }
    format!("{:016x}", h.finish())
}

/// Whether `text` matches `pattern`, where `*` matches any run of characters.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let mut parts = pattern.split('*');
    let first = parts.next().unwrap_or_default();
    let Some(mut rest) = text.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = parts.collect();
    let Some((last, middle)) = parts.split_last() else {
        return rest.is_empty();
    };
    for p in middle {
        match rest.find(p) {
            Some(i) => rest = &rest[i + p.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The hash names cache files and stamps builds: its values may never change.
    #[test]
    fn stable_hash_is_fnv1a_with_separated_parts() {
        assert_eq!(stable_hash(&[""]), "cbf29ce484222325");
        assert_eq!(stable_hash(&["a"]), "af63dc4c8601ec8c");
        assert_eq!(stable_hash(&["a", "b"]), "e57da31903de37b1");
        assert_eq!(stable_hash(&["dagf", "2024"]), "396fc6477e48fa3c");
        assert_ne!(stable_hash(&["ab"]), stable_hash(&["a", "b"]));
    }
}
