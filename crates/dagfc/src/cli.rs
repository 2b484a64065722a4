//! Command-line parsing and the commands themselves.

use crate::stdio::{self, errln, out, outln};
use crate::{outdir, output, project, scaffold};
use clap::{Parser, Subcommand, ValueEnum};
use dagf_diag::{Code, ColorChoice, Diagnostic, Diagnostics, Sources, render_human, render_json};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

/// dagfc: compiles .dagf files into static Airflow 3 DAG files.
#[derive(Parser, Debug)]
#[command(name = "dagfc", version, about)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
    /// When to colour diagnostics.
    #[arg(long, global = true, value_enum, default_value = "auto")]
    color: Color,
    /// How to print diagnostics: for people (on standard error), or one JSON object per
    /// line ending with a summary object (on standard output, unless the command prints
    /// its own output there).
    #[arg(long, global = true, value_enum, default_value = "human")]
    message_format: MessageFormat,
    /// Print only errors and warnings, no summary.
    #[arg(long, short, global = true)]
    quiet: bool,
}

/// The project a command works on.
#[derive(clap::Args, Debug, Clone, Default)]
pub(crate) struct ProjectArgs {
    /// Project folder (default: found by walking up from the working directory).
    #[arg(long)]
    project: Option<PathBuf>,
}

impl ProjectArgs {
    /// Where the search for `dagf.toml` starts.
    pub(crate) fn start(&self) -> PathBuf {
        match &self.project {
            Some(p) => p.clone(),
            None => std::env::current_dir().unwrap_or_else(|_| PathBuf::from(".")),
        }
    }
}

/// The options of the commands that build the project: which project, for which
/// environment and Airflow version, on how many threads.
#[derive(clap::Args, Debug, Clone, Default)]
pub(crate) struct BuildArgs {
    #[command(flatten)]
    pub(crate) project: ProjectArgs,
    /// Environment to build for: its `profile` applies to every DAG, and `env` is its
    /// name (default: `DAGF_ENV`, then `default_env` in dagf.toml).
    #[arg(long)]
    pub(crate) env: Option<String>,
    /// How many threads the work is spread over (default: one per core).
    #[arg(long, short = 'j')]
    pub(crate) jobs: Option<std::num::NonZeroUsize>,
    /// Airflow version to generate code for: 2.11, 3.0, 3.1, 3.2 or 3.3 (default:
    /// `[target] airflow` in dagf.toml, else 3.3).
    #[arg(long, value_parser = parse_target)]
    pub(crate) target: Option<dagf_target::Version>,
}

fn parse_target(text: &str) -> Result<dagf_target::Version, String> {
    dagf_target::Version::parse(text).ok_or_else(|| {
        let all = dagf_target::Version::ALL.map(|v| v.as_str());
        format!(
            "not a supported Airflow version (supported: {})",
            all.join(", ")
        )
    })
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Check the project and write one Python file per DAG.
    Build {
        #[command(flatten)]
        common: BuildArgs,
        /// Output folder (default: `out` in dagf.toml).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Optimisation level: 0 keeps edges and arguments as written.
        #[arg(short = 'O', default_value = "1", value_parser = clap::value_parser!(u8).range(0..=1))]
        opt_level: u8,
        /// Print an intermediate form instead of writing files.
        #[arg(long, value_enum)]
        emit: Option<Emit>,
        /// Output style (default: `[codegen] style` in dagf.toml, else classic).
        #[arg(long, value_enum)]
        style: Option<project::StyleName>,
    },
    /// Check the project without writing anything.
    Check {
        #[command(flatten)]
        common: BuildArgs,
        /// Also check the Python side in the project's Python environment: operator and
        /// sensor classes, their fields, and every Python callable the dags name. PATH is
        /// an interpreter to use instead of `[python] interpreter` in dagf.toml.
        #[arg(long, value_name = "PATH", num_args = 0..=1, require_equals = true)]
        python: Option<Option<PathBuf>>,
    },
    /// Build the project and load the result in its Airflow as the DAG processor does.
    ///
    /// Every file must import, and every DAG serialize and read back with the tasks,
    /// edges, operators and arguments dagfc made.
    Verify {
        #[command(flatten)]
        common: BuildArgs,
        /// Verify this already built folder instead of a fresh build in a temporary one.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Also run this DAG with `airflow dags test` (repeatable), in a temporary
        /// Airflow home with a fresh metadata database.
        #[arg(long = "run", value_name = "DAG_ID")]
        runs: Vec<String>,
        /// The interpreter of the Airflow environment to use instead of
        /// `[python] interpreter` in dagf.toml.
        #[arg(long, value_name = "PATH")]
        python: Option<PathBuf>,
    },
    /// Explain a diagnostic code, such as E0201, or list every code.
    Explain {
        /// The code, such as E0201 (any case).
        #[arg(required_unless_present = "list")]
        code: Option<String>,
        /// List every diagnostic code with its title, one per line.
        #[arg(long, conflicts_with = "code")]
        list: bool,
    },
    /// Show a value of a dag and every layer that set it: `schedule`,
    /// `default_args.retries`, or `TASK_ID.FIELD`.
    ExplainValue {
        /// The dag id.
        dag: String,
        /// The value: a dag field, `default_args.KEY`, or `TASK_ID.FIELD`.
        field: String,
        #[command(flatten)]
        common: BuildArgs,
    },
    /// Create a new project folder.
    New {
        /// The project's name and folder: letters, digits, `-` and `_`.
        name: String,
    },
    /// Print a JSON Schema of a record type or of a factory's parameters, for editors
    /// to check YAML and JSON config files against.
    Schema {
        /// The record type or factory.
        name: String,
        /// The schema of a base document: nothing required (a document that extends
        /// bases is checked this way anyway).
        #[arg(long)]
        partial: bool,
        #[command(flatten)]
        project: ProjectArgs,
    },
    /// Convert another tool's DAG definitions into a .dagf file.
    Import {
        #[command(subcommand)]
        from: ImportFrom,
    },
    /// Print a shell completion script for bash, zsh, fish, powershell or elvish.
    ///
    /// For bash: `dagfc completions bash > ~/.local/share/bash-completion/completions/dagfc`.
    Completions {
        /// The shell to complete in.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

/// What `dagfc import` reads.
#[derive(Subcommand, Debug)]
enum ImportFrom {
    /// A dag-factory 1.1 YAML file: prints the equivalent .dagf file (or writes it to --out).
    DagFactory {
        /// The dag-factory YAML file.
        file: PathBuf,
        /// Write the .dagf file here instead of printing it.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Replace the --out file if it exists.
        #[arg(long)]
        force: bool,
    },
}

#[derive(Copy, Clone, Debug, ValueEnum, PartialEq, Eq)]
enum Color {
    /// Colour when standard error is a terminal and `NO_COLOR` is not set.
    Auto,
    /// Always colour.
    Always,
    /// Never colour.
    Never,
}

#[derive(Copy, Clone, Debug, ValueEnum, PartialEq, Eq)]
enum MessageFormat {
    /// Rendered for people, with excerpts of the source, on standard error.
    Human,
    /// One JSON object per line, then a summary object.
    Json,
}

#[derive(Copy, Clone, Debug, ValueEnum, PartialEq, Eq)]
enum Emit {
    /// The checked, optimised IR.
    Ir,
    /// The generated Python, all files one after another.
    Python,
}

pub fn parse() -> Args {
    Args::parse()
}

/// Exit statuses: 0 success, 1 errors in the user's input, 2 command-line misuse.
const USER_ERROR: u8 = 1;

pub fn run(args: Args) -> u8 {
    match &args.command {
        Command::Explain { code, list } => match code {
            Some(code) if !list => explain(code),
            _ => explain_list(),
        },
        Command::New { name } => new(name, args.quiet),
        Command::Schema {
            name,
            partial,
            project,
        } => schema(project, name, *partial),
        Command::Import { from } => import(&args, from),
        Command::Completions { shell } => completions(*shell),
        Command::Check { common, .. } | Command::ExplainValue { common, .. } => {
            compile(&args, common, None)
        }
        Command::Verify {
            common,
            out,
            runs,
            python,
        } => {
            let printer = Printer::new(&args, false);
            crate::verify::verify(&printer, common, out.as_deref(), runs, python.as_deref())
        }
        Command::Build {
            common,
            out,
            opt_level,
            emit,
            style,
        } => compile(
            &args,
            common,
            Some((out.clone(), *opt_level, *emit, *style)),
        ),
    }
}

/// The command-line tree, for completion scripts (and the tests that read it).
pub fn command() -> clap::Command {
    <Args as clap::CommandFactory>::command()
}

fn completions(shell: clap_complete::Shell) -> u8 {
    let mut cmd = command();
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut cmd, "dagfc", &mut script);
    out!("{}", String::from_utf8_lossy(&script));
    0
}

/// `dagfc explain --list`: every registered code and its title.
fn explain_list() -> u8 {
    let mut text = String::new();
    for info in dagf_diag::CODES {
        text.push_str(&format!("{}  {}\n", info.code, info.title));
    }
    out!("{text}");
    0
}

fn explain(code: &str) -> u8 {
    match Code::parse(code) {
        Some(c) => {
            out!("{}", c.info().page);
            0
        }
        None => {
            errln!("error: `{code}` is not a dagf diagnostic code");
            errln!(
                "help: codes look like E0201 or W0001; every diagnostic prints its code, and `dagfc explain --list` lists them"
            );
            USER_ERROR
        }
    }
}

fn new(name: &str, quiet: bool) -> u8 {
    let valid = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !valid {
        errln!("error: `{name}` is not a project name: use letters, digits, `-` and `_`");
        return USER_ERROR;
    }
    match scaffold::create(Path::new(name), name) {
        Ok(()) => {
            if !quiet {
                outln!("created project `{name}`: cd {name} && dagfc build");
            }
            0
        }
        Err(e) => {
            errln!("error: cannot create `{name}`: {e}");
            USER_ERROR
        }
    }
}

/// Prints diagnostics and the summary that ends a command, for people or as JSON.
pub(crate) struct Printer {
    color: ColorChoice,
    json: bool,
    quiet: bool,
    /// JSON messages go to standard error: the command prints its own output on standard
    /// output (`build --emit`, `explain-value`, `import` without `--out`).
    json_on_stderr: bool,
}

impl Printer {
    pub(crate) fn new(args: &Args, prints_to_stdout: bool) -> Self {
        let color = match args.color {
            Color::Always => ColorChoice::Always,
            Color::Never => ColorChoice::Never,
            Color::Auto => {
                if std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none() {
                    ColorChoice::Always
                } else {
                    ColorChoice::Never
                }
            }
        };
        Printer {
            color,
            json: args.message_format == MessageFormat::Json,
            quiet: args.quiet,
            json_on_stderr: prints_to_stdout,
        }
    }

    pub(crate) fn print(&self, diags: Vec<Diagnostic>, sources: &Sources) {
        if diags.is_empty() {
            return;
        }
        if self.json {
            self.json_lines(&render_json(&diags, sources));
        } else {
            stdio::write_err(&render_human(&diags, sources, self.color));
        }
    }

    fn json_lines(&self, text: &str) {
        if self.json_on_stderr {
            stdio::write_err(text);
        } else {
            stdio::write_messages(text);
        }
    }

    /// The last thing a command prints: the summary line for people (on standard error;
    /// with `--quiet`, only a failure's), or one JSON object with `facts` (counts of
    /// errors, warnings, dags, files) as the last line of the JSON stream, always.
    pub(crate) fn summary(&self, line: &str, is_error: bool, facts: serde_json::Value) {
        if self.json {
            let mut object = serde_json::Map::new();
            object.insert("type".into(), "summary".into());
            object.insert("success".into(), (!is_error).into());
            if let serde_json::Value::Object(facts) = facts {
                object.extend(facts);
            }
            object.insert("message".into(), line.into());
            self.json_lines(&format!("{}\n", serde_json::Value::Object(object)));
        } else if is_error || !self.quiet {
            errln!("{line}");
        }
    }

    /// A line for people while the command works (such as waiting for a lock): never in
    /// JSON, nor with `--quiet`.
    pub(crate) fn note(&self, line: &str) {
        if !self.json && !self.quiet {
            errln!("{line}");
        }
    }
}

/// The JSON summary's counts.
pub(crate) fn facts(errors: usize, warnings: usize) -> serde_json::Value {
    serde_json::json!({ "errors": errors, "warnings": warnings })
}

fn compile(args: &Args, common: &BuildArgs, build: Option<BuildOptions>) -> u8 {
    let prints_to_stdout = matches!(args.command, Command::ExplainValue { .. })
        || matches!(build, Some((_, _, Some(_), _)));
    let printer = Printer::new(args, prints_to_stdout);
    let fail = |d: Diagnostic, sources: &Sources| {
        printer.print(vec![d], sources);
        printer.summary(&format!("error: {}", counts(1, 0)), true, facts(1, 0));
        USER_ERROR
    };
    let start = common.project.start();
    let Some(root) = project::find_root(&start) else {
        return fail(
            Diagnostic::new(
                Code::E0403,
                format!(
                    "no {} in {} or any folder above it",
                    project::FILE,
                    start.display()
                ),
            )
            .with_help("run `dagfc new NAME` to create a project, or pass --project DIR"),
            &Sources::new(),
        );
    };
    let loader = dagf_io::DiskLoader { root: &root };
    let proj = match dagf_driver::Project::load(&loader) {
        Ok(p) => p,
        Err(stopped) => return fail_build(&printer, *stopped),
    };
    let on_disk = project::Project {
        root: &root,
        config: &proj.config,
    };
    // Where a build writes (and, for `check`, where dagf.toml says it would), refused
    // before any work when it is no place for generated files.
    let out_dir = match &build {
        Some((flag, _, None, _)) => Some(flag.as_deref()),
        None if matches!(args.command, Command::Check { .. }) => Some(None),
        _ => None,
    }
    .map(|flag| outdir::resolve(flag, &on_disk, Some(proj.toml())))
    .transpose();
    let out_dir = match out_dir {
        Ok(o) => o,
        Err(d) => return fail(*d, &proj.sources),
    };
    let goal = match (&args.command, &build) {
        (Command::ExplainValue { .. }, _) => dagf_driver::Goal::Explain,
        (_, Some((_, _, Some(Emit::Ir), _))) => dagf_driver::Goal::Ir,
        (_, Some((_, _, Some(Emit::Python), _))) => dagf_driver::Goal::Python,
        (_, Some((_, _, None, _))) => dagf_driver::Goal::Files,
        _ => dagf_driver::Goal::Check,
    };
    let options = dagf_driver::Options {
        goal,
        env: common.env.clone(),
        env_vars: std::env::vars().collect(),
        opt_level: build.as_ref().map_or(1, |b| b.1),
        style: build
            .as_ref()
            .and_then(|b| b.3)
            .map(project::StyleName::driver),
        threads: common.jobs,
        target: common.target,
        references: false,
    };
    let name = proj.config.project.name.as_deref().unwrap_or("the project");
    // A build (writing files) whose inputs and outputs are as the last one left them
    // has nothing to do.
    if goal == dagf_driver::Goal::Files
        && let Some(out_dir) = &out_dir
    {
        // Through the loader's checks: a source replaced by a named pipe since the last
        // build must not block here.
        let read = |p: &str| {
            dagf_io::read_file(&root.join(p), dagf_sema::MAX_FILE_BYTES)
                .ok()
                .and_then(|b| dagf_sema::decode(b).ok())
        };
        let key = proj.stamp_key(&options);
        if let Some((n, warnings)) = output::up_to_date(&out_dir.path, &key, &read) {
            let noted = match warnings {
                0 => String::new(),
                w => format!(
                    "; the last build had {}, `dagfc check` shows them again",
                    plural(w, "warning")
                ),
            };
            printer.summary(
                &format!(
                    "{} of {name} in {} up to date: nothing changed{noted}",
                    plural(n, "file"),
                    project::relative(&out_dir.path, &root),
                ),
                false,
                serde_json::json!({
                    "errors": 0, "warnings": 0, "files": n, "up_to_date": true,
                }),
            );
            return 0;
        }
    }
    let built = dagf_driver::Session::new().build_project(&proj, &loader, &options);
    let Some(ir) = &built.ir else {
        return fail_build(&printer, built);
    };
    let dagf_driver::Build {
        sources: mut checked_sources,
        diagnostics: diags,
        errors,
        warnings,
        files,
        stamp,
        ..
    } = built;
    let dags = ir.dags.len();
    let done = |printer: &Printer| {
        let line = format!(
            "checked {}: {}",
            plural(dags, "dag"),
            counts(errors, warnings)
        );
        let mut f = facts(errors, warnings);
        f["dags"] = dags.into();
        printer.summary(&line, false, f);
    };
    match goal {
        dagf_driver::Goal::Explain => {
            let Command::ExplainValue { dag, field, .. } = &args.command else {
                return USER_ERROR;
            };
            printer.print(diags, &checked_sources);
            // `explain-value`'s own output is its answer; only JSON ends with a summary.
            let status = explain_value(ir, &checked_sources, dag, field);
            if printer.json {
                done(&printer);
            }
            return status;
        }
        dagf_driver::Goal::Check => {
            if let Command::Check {
                python: Some(flag), ..
            } = &args.command
            {
                let checked = python_checks(
                    &printer,
                    flag.as_deref(),
                    &proj.config.python,
                    &root,
                    ir,
                    &checked_sources,
                );
                let n = checked.len();
                let mut all = Diagnostics::new();
                all.extend(diags);
                all.extend(checked);
                printer.print(all.into_sorted(), &checked_sources);
                if n > 0 {
                    printer.summary(
                        &format!("error: {}", counts(errors + n, warnings)),
                        true,
                        facts(errors + n, warnings),
                    );
                    return USER_ERROR;
                }
                done(&printer);
                return 0;
            }
            printer.print(diags, &checked_sources);
            done(&printer);
            return 0;
        }
        dagf_driver::Goal::Ir => {
            printer.print(diags, &checked_sources);
            out!("{}", dagf_ir::pretty(ir));
            if printer.json {
                done(&printer);
            }
            return 0;
        }
        dagf_driver::Goal::Python => {
            printer.print(diags, &checked_sources);
            for file in &files {
                match file.folder.as_str() {
                    "" => outln!("# ==> {} <==", file.file),
                    dir => outln!("# ==> {dir}/{} <==", file.file),
                }
                out!("{}", file.text);
            }
            if printer.json {
                let mut f = facts(errors, warnings);
                f["dags"] = files.iter().filter(|f| !f.dag_id.is_empty()).count().into();
                f["files"] = files.len().into();
                let line = format!(
                    "printed {}: {}",
                    plural(files.len(), "file"),
                    counts(errors, warnings)
                );
                printer.summary(&line, false, f);
            }
            return 0;
        }
        dagf_driver::Goal::Files => {}
    }
    let Some(outdir::OutDir {
        path: out_dir,
        shown: shown_out,
    }) = out_dir
    else {
        return USER_ERROR;
    };
    let written = output::write(
        &out_dir,
        &shown_out,
        &files,
        stamp.as_ref(),
        &mut checked_sources,
        &|line| printer.note(line),
        dagf_driver::par::threads(common.jobs),
    );
    let count = files.iter().filter(|f| !f.dag_id.is_empty()).count();
    let file_count = files.len();
    // The process ends right after this: freeing the files piece by piece would only
    // cost time.
    std::mem::forget(files);
    match written {
        Ok(report) => {
            printer.print(diags, &checked_sources);
            let mut f = facts(errors, warnings);
            f["dags"] = count.into();
            f["files"] = file_count.into();
            f["written"] = report.written.into();
            f["unchanged"] = report.unchanged.into();
            f["removed"] = report.removed.into();
            printer.summary(
                &format!(
                    "built {} of {name} into {} ({} written, {} unchanged, {} removed): {}",
                    plural(count, "dag"),
                    shown_out,
                    report.written,
                    report.unchanged,
                    report.removed,
                    counts(errors, warnings)
                ),
                false,
                f,
            );
            0
        }
        Err(failure) => {
            let n = failure.diagnostics.len();
            let mut all = Diagnostics::new();
            all.extend(diags);
            all.extend(failure.diagnostics);
            printer.print(all.into_sorted(), &checked_sources);
            printer.summary(
                &format!(
                    "error: {}; {}",
                    counts(errors + n, warnings),
                    failure.outcome
                ),
                true,
                facts(errors + n, warnings),
            );
            USER_ERROR
        }
    }
}

/// `check --python`: the project's Python environment asked about every class and
/// callable the project names; one diagnostic per mistake (or one saying why Python
/// could not be asked).
pub(crate) fn python_checks(
    printer: &Printer,
    flag: Option<&Path>,
    config: &dagf_driver::PythonSection,
    root: &Path,
    ir: &dagf_ir::Project,
    sources: &Sources,
) -> Vec<Diagnostic> {
    // `dagf.toml` is the first file of every build's sources.
    let env = match crate::python::resolve(flag, config, root, dagf_diag::FileId(0)) {
        Ok(e) => e,
        Err(d) => return vec![*d],
    };
    let plan = crate::python::check::plan(ir, sources);
    let (classes, callables) = plan.counts();
    printer.note(&format!(
        "asking {} about {} class{} and {}",
        env.shown,
        classes,
        if classes == 1 { "" } else { "es" },
        plural(callables, "callable")
    ));
    match env.ask(&plan.request(), &[]) {
        Ok(answer) => plan.diagnose(&answer),
        Err(d) => vec![*d],
    }
}

/// A build with errors: its diagnostics and the summary.
fn fail_build(printer: &Printer, built: dagf_driver::Build) -> u8 {
    printer.print(built.diagnostics, &built.sources);
    printer.summary(
        &format!("error: {}", counts(built.errors, built.warnings)),
        true,
        facts(built.errors, built.warnings),
    );
    USER_ERROR
}

/// `dagfc import dag-factory FILE`: the .dagf equivalent of a dag-factory YAML file, on
/// standard output or in `--out` (never replacing a file without `--force`). Nothing is
/// written when the import has an error.
fn import(args: &Args, from: &ImportFrom) -> u8 {
    let ImportFrom::DagFactory { file, out, force } = from;
    let printer = Printer::new(args, out.is_none());
    let mut sources = Sources::new();
    let fail = |d: Diagnostic, sources: &Sources| {
        printer.print(vec![d], sources);
        printer.summary(
            "error: 1 error, 0 warnings; nothing was written",
            true,
            facts(1, 0),
        );
        USER_ERROR
    };
    if let Some(out) = out.as_ref().filter(|o| !force && o.exists()) {
        return fail(
            Diagnostic::new(Code::E0404, format!("{} exists", out.display()))
                .with_help("pass --force to replace it, or choose another --out"),
            &sources,
        );
    }
    let text = match std::fs::read_to_string(file) {
        Ok(t) => t,
        Err(e) => {
            return fail(
                Diagnostic::new(Code::E0404, format!("cannot read {}: {e}", file.display())),
                &sources,
            );
        }
    };
    let shown = file.display().to_string();
    let id = sources.add(shown.clone(), text);
    let name = file
        .file_name()
        .map_or(shown.clone(), |n| n.to_string_lossy().into_owned());
    let imported = dagf_import::dag_factory(&sources.get(id).text, id, &name);
    let (errors, warnings) = (
        imported.diagnostics.error_count(),
        imported.diagnostics.warning_count(),
    );
    printer.print(imported.diagnostics.into_sorted(), &sources);
    if errors > 0 {
        printer.summary(
            &format!("error: {}; nothing was written", counts(errors, warnings)),
            true,
            facts(errors, warnings),
        );
        return USER_ERROR;
    }
    let Some(out) = out else {
        out!("{}", imported.dagf);
        printer.summary(
            &format!("imported {shown}: {}", counts(errors, warnings)),
            false,
            facts(errors, warnings),
        );
        return 0;
    };
    let written = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .create_new(!force)
        .open(out)
        .and_then(|mut f| f.write_all(imported.dagf.as_bytes()));
    match written {
        Ok(()) => {
            printer.summary(
                &format!(
                    "imported {shown} into {}: {}",
                    out.display(),
                    counts(errors, warnings)
                ),
                false,
                facts(errors, warnings),
            );
            0
        }
        Err(e) => fail(
            Diagnostic::new(Code::E0404, format!("cannot write {}: {e}", out.display())),
            &sources,
        ),
    }
}

/// `dagfc schema NAME`: the JSON Schema of a record type or a factory's parameters.
fn schema(project: &ProjectArgs, name: &str, partial: bool) -> u8 {
    let start = project.start();
    let Some(root) = project::find_root(&start) else {
        errln!(
            "error: no {} in {} or any folder above it",
            project::FILE,
            start.display()
        );
        return USER_ERROR;
    };
    let loader = dagf_io::DiskLoader { root: &root };
    let files = match dagf_driver::Project::load(&loader) {
        Ok(p) => p.files,
        Err(stopped) => {
            for d in &stopped.diagnostics {
                errln!("error: {}", d.message);
            }
            return USER_ERROR;
        }
    };
    match dagf_sema::schema(&files, &loader, name, partial) {
        Ok(s) => {
            outln!("{s:#}");
            0
        }
        Err(e) => {
            errln!("error: {e}");
            USER_ERROR
        }
    }
}

/// `dagfc explain-value`: the value as the IR has it (before optimisation), and the
/// layers behind it, each with its place in the source.
fn explain_value(ir: &dagf_ir::Project, sources: &Sources, dag_id: &str, path: &str) -> u8 {
    let Some(dag) = ir.dags.iter().find(|d| d.dag_id == dag_id) else {
        let ids: Vec<&str> = ir.dags.iter().map(|d| d.dag_id.as_str()).collect();
        errln!("error: the project has no dag `{dag_id}`");
        if let Some(c) = dagf_diag::did_you_mean(dag_id, ids) {
            errln!("help: did you mean `{c}`?");
        }
        return USER_ERROR;
    };
    let name = match path {
        "start_date" => "start",
        "end_date" => "end",
        "doc_md" => "doc",
        other => other,
    };
    let field = match name.split_once('.') {
        Some(("default_args", key)) => dag.default_args.iter().find(|f| f.name == key),
        Some(_) => name.rsplit_once('.').and_then(|(task, key)| {
            dag.tasks()
                .find(|t| t.task_id == task)
                .and_then(|t| t.args.iter().find(|f| f.name == key))
        }),
        None => dag.args.iter().find(|f| f.name == name),
    };
    let Some(field) = field else {
        errln!("error: dag `{dag_id}` does not set `{path}`");
        errln!(
            "help: name a dag field (`schedule`), a default argument (`default_args.retries`), or a task's field (`load.retries`)"
        );
        return USER_ERROR;
    };
    outln!("{dag_id}: {path} = {}", dagf_ir::value_text(&field.value));
    let last = field.provenance.len().saturating_sub(1);
    for (i, (layer, span)) in field.provenance.iter().enumerate().rev() {
        let file = sources.get(span.file);
        let at = file.line_col(span.start);
        let line = file.text.lines().nth(at.line - 1).unwrap_or("").trim();
        let role = if i == last { "set by" } else { "  over" };
        outln!(
            "  {role} {layer} at {}:{}:{}: {line}",
            file.name,
            at.line,
            at.col
        );
    }
    0
}

/// `build`'s options: output folder, optimisation level, what to emit, style.
type BuildOptions = (
    Option<PathBuf>,
    u8,
    Option<Emit>,
    Option<project::StyleName>,
);

pub(crate) fn plural(n: usize, word: &str) -> String {
    format!("{n} {word}{}", if n == 1 { "" } else { "s" })
}

pub(crate) fn counts(errors: usize, warnings: usize) -> String {
    format!(
        "{}, {}",
        plural(errors, "error"),
        plural(warnings, "warning")
    )
}

#[cfg(test)]
#[path = "cli_tests.rs"]
mod tests;
