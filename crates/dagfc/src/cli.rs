//! Command-line parsing and the commands themselves.

use crate::stdio::{self, errln, out, outln};
use crate::{gitrev, outdir, output, project, scaffold, timings};
use clap::{Parser, Subcommand, ValueEnum};
use dagf_diag::{
    Code, ColorChoice, Diagnostic, Diagnostics, Sources, plural, render_human, render_json,
};
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

/// What a build reports about itself besides its diagnostics.
#[derive(clap::Args, Debug, Clone, Default)]
struct ReportArgs {
    /// Print how long each phase, module and dag took, with CPU time and peak memory;
    /// `--timings=html` writes the same as a page, `.dagf-cache/timings.html`.
    #[arg(long, value_enum, num_args = 0..=1, require_equals = true, default_missing_value = "text", value_name = "FORMAT")]
    timings: Option<TimingsFormat>,
    /// Write a trace of the build (each phase, module and dag on the thread it ran on)
    /// that Perfetto or chrome://tracing opens.
    #[arg(long, value_name = "FILE")]
    trace: Option<PathBuf>,
    /// Write the build's metrics (dags and tasks per tenant, diagnostics per code, time
    /// per phase, files written, memory) as JSON, or in the Prometheus text format when
    /// FILE ends in `.prom`.
    #[arg(long, value_name = "FILE")]
    metrics: Option<PathBuf>,
}

impl ReportArgs {
    fn wanted(&self) -> bool {
        self.timings.is_some() || self.trace.is_some() || self.metrics.is_some()
    }
}

#[derive(Copy, Clone, Debug, ValueEnum, PartialEq, Eq)]
enum TimingsFormat {
    /// A summary on standard error.
    Text,
    /// A page in `.dagf-cache/timings.html`.
    Html,
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
        /// Make only the files of the dags whose id matches PATTERN (`*` for any run of
        /// characters; repeatable): the whole project is checked, the other files are
        /// kept as they are, and nothing is removed.
        #[arg(long, value_name = "PATTERN")]
        only: Vec<String>,
        /// Make only the files of the dags placed in tenant NAME (repeatable), as `--only`.
        #[arg(long, value_name = "NAME")]
        tenant: Vec<String>,
        #[command(flatten)]
        reports: ReportArgs,
    },
    /// Check the project without writing anything.
    Check {
        #[command(flatten)]
        common: BuildArgs,
        #[command(flatten)]
        reports: ReportArgs,
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
    /// List the project's dags.
    ///
    /// Each with its file, tenant, schedule, task count and the place that declares it.
    Ls {
        /// Only the dags whose id matches this pattern (`*` stands for any run of
        /// characters, `?` for one).
        pattern: Option<String>,
        /// Only the dags of this tenant.
        #[arg(long)]
        tenant: Option<String>,
        /// A table for people, or a JSON array with one object per dag.
        #[arg(long, value_enum, default_value = "table")]
        format: ListFormat,
        #[command(flatten)]
        common: BuildArgs,
    },
    /// Show a dag task by task, with where each value came from.
    ///
    /// Its fields and groups, then each task's operator, group, upstream and downstream
    /// tasks and fields, every value with the layer that set it and where.
    Inspect {
        /// The dag id.
        dag: String,
        #[command(flatten)]
        common: BuildArgs,
    },
    /// Draw a dag: its tasks, groups and dependencies, as Airflow will run them.
    Graph {
        /// The dag id.
        dag: String,
        /// SVG (laid out by dagfc: no tool needed), a standalone HTML page with the
        /// picture and a table of the tasks, Graphviz DOT, or Mermaid.
        #[arg(long, value_enum, default_value = "svg")]
        format: GraphFormat,
        /// Write the drawing to this file instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
        #[command(flatten)]
        common: BuildArgs,
    },
    /// Show what changed between two builds of the project, dag by dag.
    ///
    /// The working tree against a git revision (`--rev`, default `HEAD`), or one
    /// environment against another (`--from-env`). Exit status 3 when they differ.
    Diff {
        /// The old side: the project as it was at this git revision (`HEAD~1`, a
        /// branch, a tag), built with the same options (default: `HEAD`).
        #[arg(long, value_name = "REV", conflicts_with = "from_env")]
        rev: Option<String>,
        /// The old side: the working tree built for this environment (the new side
        /// is `--env`'s).
        #[arg(long, value_name = "ENV", conflicts_with = "folder")]
        from_env: Option<String>,
        /// The old side: an output folder a build wrote (what is deployed), as the
        /// project's Airflow loads it: what building now would change there.
        #[arg(long, value_name = "DIR", conflicts_with = "rev")]
        folder: Option<PathBuf>,
        /// With `--folder`: the interpreter of the Airflow environment to use instead
        /// of `[python] interpreter` in dagf.toml.
        #[arg(long, value_name = "PATH", requires = "folder")]
        python: Option<PathBuf>,
        /// Text for people, or a JSON array with one object per change.
        #[arg(long, value_enum, default_value = "text")]
        format: DiffFormat,
        #[command(flatten)]
        common: BuildArgs,
    },
    /// Run the project's `test` blocks.
    Test {
        /// Only the tests whose name contains this text.
        filter: Option<String>,
        /// Also write the results as JUnit XML to this file, for CI.
        #[arg(long, value_name = "FILE")]
        junit: Option<PathBuf>,
        /// Write the snapshot of every `snapshot` statement whose file differs or is
        /// missing, instead of failing.
        #[arg(long)]
        update: bool,
        /// Also make the `run` statements of integration tests: each dag run with
        /// `airflow dags test` in a temporary Airflow home, its final task states
        /// checked (without, those tests are reported as skipped).
        #[arg(long)]
        integration: bool,
        /// The interpreter of the Airflow environment for `--integration` instead of
        /// `[python] interpreter` in dagf.toml.
        #[arg(long, value_name = "PATH")]
        python: Option<PathBuf>,
        /// Seconds each Airflow command of `--integration` may take (`airflow db
        /// migrate`, each `airflow dags test`); default: `[python] timeout` or 600,
        /// whichever is longer.
        #[arg(long, value_name = "SECONDS")]
        timeout: Option<u64>,
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
    /// Work with operator and sensor declarations.
    Operators {
        #[command(subcommand)]
        action: OperatorsAction,
    },
    /// Work with the fixtures of tests.
    Fixtures {
        #[command(subcommand)]
        action: FixturesAction,
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

/// What `dagfc operators` does.
#[derive(Subcommand, Debug)]
enum FixturesAction {
    /// Save what HTTP and SQLite config sources answer today as fixtures: each source's
    /// answer in `fixtures/SOURCE.json` beside the file that declares it, for tests
    /// (`fixture SOURCE = recorded`) to run offline. A file recorded before is replaced,
    /// and what changed is shown.
    Record {
        /// The sources to record, by name (default: every HTTP and SQLite source).
        #[arg(value_name = "SOURCE")]
        source: Vec<String>,
        #[command(flatten)]
        project: ProjectArgs,
    },
}

#[derive(Subcommand, Debug)]
enum OperatorsAction {
    /// Write typed `operator` and `sensor` declarations from the classes installed in
    /// the project's Python environment.
    ///
    /// Each TARGET is a class (`airflow.providers.docker.operators.docker.DockerOperator`)
    /// or a module or package, whose operator and sensor classes are all imported.
    Import {
        /// Classes, modules or packages to import.
        #[arg(required = true, value_name = "TARGET")]
        targets: Vec<String>,
        /// The interpreter to ask instead of `[python] interpreter` in dagf.toml (or
        /// `python3` outside a project).
        #[arg(long, value_name = "PATH")]
        python: Option<PathBuf>,
        /// Write the declarations to this file instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Replace the --out file if it exists.
        #[arg(long)]
        force: bool,
        /// Seconds Python may take to import everything (default: `[python] timeout`,
        /// else 60).
        #[arg(long, value_name = "SECONDS")]
        timeout: Option<u64>,
        #[command(flatten)]
        project: ProjectArgs,
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
enum ListFormat {
    /// Aligned columns with a header line.
    Table,
    /// A JSON array, one object per dag.
    Json,
}

#[derive(Copy, Clone, Debug, ValueEnum, PartialEq, Eq)]
enum DiffFormat {
    /// A line per change, grouped by dag.
    Text,
    /// A JSON array, one object per change.
    Json,
}

#[derive(Copy, Clone, Debug, ValueEnum, PartialEq, Eq)]
enum GraphFormat {
    /// An SVG picture.
    Svg,
    /// A standalone HTML page: the picture and a table of the tasks.
    Html,
    /// Graphviz DOT.
    Dot,
    /// A Mermaid flowchart.
    Mermaid,
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

/// Exit statuses: 0 success, 1 errors in the user's input, 2 command-line misuse, and
/// for `diff`, 3 when the two builds differ.
const USER_ERROR: u8 = 1;
const DIFFERENT: u8 = 3;

pub fn run(args: Args) -> u8 {
    match &args.command {
        Command::Explain { code, list } => match code {
            Some(code) if !list => explain(code),
            _ => explain_list(),
        },
        Command::New { name } => new(name, args.quiet),
        Command::Test {
            filter,
            junit,
            update,
            integration,
            python,
            timeout,
            common,
        } => {
            let printer = Printer::new(&args, false);
            crate::testrun::test(
                &printer,
                common,
                &crate::testrun::Asked {
                    filter: filter.as_deref(),
                    junit: junit.as_deref(),
                    update: *update,
                    integration: *integration,
                    python: python.as_deref(),
                    timeout: *timeout,
                },
            )
        }
        Command::Schema {
            name,
            partial,
            project,
        } => schema(project, name, *partial),
        Command::Import { from } => import(&args, from),
        Command::Operators { action } => operators(&args, action),
        Command::Fixtures {
            action: FixturesAction::Record { source, project },
        } => crate::fixtures::record(&Printer::new(&args, false), project, source),
        Command::Completions { shell } => completions(*shell),
        Command::Diff {
            rev,
            from_env,
            folder,
            python,
            format,
            common,
        } => match folder {
            Some(dir) => diff_folder(&args, common, dir, python.as_deref(), *format),
            None => diff(&args, common, rev.as_deref(), from_env.as_deref(), *format),
        },
        Command::Check {
            common, reports, ..
        } => compile(&args, common, None, Some(reports)),
        Command::ExplainValue { common, .. }
        | Command::Ls { common, .. }
        | Command::Inspect { common, .. }
        | Command::Graph { common, .. } => compile(&args, common, None, None),
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
            only,
            tenant,
            reports,
        } => compile(
            &args,
            common,
            Some((
                out.clone(),
                *opt_level,
                *emit,
                *style,
                dagf_driver::Selection {
                    dags: only.clone(),
                    tenants: tenant.clone(),
                },
            )),
            Some(reports),
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

    /// Whether messages are JSON lines rather than text for people.
    pub(crate) fn is_json(&self) -> bool {
        self.json
    }

    /// A JSON message of the command's own (such as one test's result), on the JSON stream.
    pub(crate) fn json_message(&self, value: &serde_json::Value) {
        self.json_lines(&format!("{value}\n"));
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

    /// A command stopped by one error: prints it and the summary; the exit status.
    pub(crate) fn fail(&self, d: Diagnostic, sources: &Sources) -> u8 {
        self.print(vec![d], sources);
        self.summary(&format!("error: {}", counts(1, 0)), true, facts(1, 0));
        USER_ERROR
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

/// A build's own reports: the trace it fills, and what else it found.
struct Report {
    recorder: Option<std::sync::Arc<timings::Recorder>>,
    collected: timings::Collected,
}

impl Report {
    /// Notes a phase of dagfc's own (reading dagf.toml, writing the output).
    fn phase(&self, name: &str, start: u64) {
        if let Some(r) = &self.recorder {
            dagf_driver::Trace::done(r.as_ref(), "phase", name, start);
        }
    }

    fn now(&self) -> u64 {
        self.recorder.as_ref().map_or(0, |r| r.elapsed())
    }
}

/// Builds or checks (`compile_with`), then writes the reports `reports` asks for.
fn compile(
    args: &Args,
    common: &BuildArgs,
    build: Option<BuildOptions>,
    reports: Option<&ReportArgs>,
) -> u8 {
    let wanted = reports.filter(|r| r.wanted());
    let report = Report {
        recorder: wanted.map(|_| std::sync::Arc::new(timings::Recorder::new())),
        collected: timings::Collected::default(),
    };
    let status = compile_with(args, common, build, &report);
    if let (Some(wanted), Some(recorder)) = (wanted, &report.recorder) {
        let events = recorder.events();
        let usage = timings::usage(recorder);
        let write = |path: &Path, text: &str| {
            if let Err(e) = std::fs::write(path, text) {
                errln!("error: cannot write {}: {e}", path.display());
            }
        };
        match wanted.timings {
            Some(TimingsFormat::Text) => {
                errln!("{}", timings::text_report(&events, usage).trim_end())
            }
            Some(TimingsFormat::Html) => {
                let start = common.project.start();
                let root = project::find_root(&start).unwrap_or(start);
                let dir = root.join(".dagf-cache");
                let path = dir.join("timings.html");
                let name = root
                    .file_name()
                    .map_or(String::new(), |n| n.to_string_lossy().into_owned());
                match std::fs::create_dir_all(&dir) {
                    Ok(()) => {
                        write(&path, &timings::html_report(&events, usage, &name));
                        if !args.quiet {
                            errln!("timings written to {}", path.display());
                        }
                    }
                    Err(e) => errln!("error: cannot create {}: {e}", dir.display()),
                }
            }
            None => {}
        }
        if let Some(path) = &wanted.trace {
            write(path, &timings::chrome_trace(&events));
        }
        if let Some(path) = &wanted.metrics {
            let m = timings::metrics(&events, usage, &report.collected, status);
            let text = if path.extension().is_some_and(|e| e == "prom") {
                timings::prometheus(&m)
            } else {
                format!("{m:#}\n")
            };
            write(path, &text);
        }
    }
    status
}

fn compile_with(
    args: &Args,
    common: &BuildArgs,
    build: Option<BuildOptions>,
    report: &Report,
) -> u8 {
    let prints_to_stdout = matches!(
        args.command,
        Command::ExplainValue { .. }
            | Command::Ls { .. }
            | Command::Inspect { .. }
            | Command::Graph { out: None, .. }
    ) || matches!(build, Some((_, _, Some(_), _, _)));
    let printer = Printer::new(args, prints_to_stdout);
    let fail = |d: Diagnostic, sources: &Sources| printer.fail(d, sources);
    let start = common.project.start();
    let Some(root) = project::find_root(&start) else {
        return fail(project::not_found(&start), &Sources::new());
    };
    let loader = dagf_io::DiskLoader { root: &root };
    let t = report.now();
    let proj = match dagf_driver::Project::load(&loader) {
        Ok(p) => p,
        Err(stopped) => {
            report.collected.diagnostics(&stopped.diagnostics);
            return fail_build(&printer, *stopped);
        }
    };
    report.phase("read dagf.toml and list files", t);
    let on_disk = project::Project {
        root: &root,
        config: &proj.config,
    };
    // Where a build writes (and, for `check`, where dagf.toml says it would), refused
    // before any work when it is no place for generated files.
    let out_dir = match &build {
        Some((flag, _, None, _, _)) => Some(flag.as_deref()),
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
        (Command::ExplainValue { .. } | Command::Inspect { .. }, _) => dagf_driver::Goal::Explain,
        (Command::Ls { .. } | Command::Graph { .. }, _) => dagf_driver::Goal::Ir,
        (_, Some((_, _, Some(Emit::Ir), _, _))) => dagf_driver::Goal::Ir,
        (_, Some((_, _, Some(Emit::Python), _, _))) => dagf_driver::Goal::Python,
        (_, Some((_, _, None, _, _))) => dagf_driver::Goal::Files,
        // `check --python` reads the IR; `check` alone needs only the verdict.
        (Command::Check { python: None, .. }, _) => dagf_driver::Goal::Diagnostics,
        _ => dagf_driver::Goal::Check,
    };
    // Builds and checks of the whole project keep each module's results in
    // `.dagf-cache/modules/` and reuse those of modules nothing of which changed (not
    // `check --python`, which needs every dag's IR).
    let selected = build.as_ref().map(|b| b.4.clone()).unwrap_or_default();
    // `DAGF_CACHE=off` builds as if nothing had been built before (a cold build).
    let cache_off = std::env::var("DAGF_CACHE").is_ok_and(|v| v == "off");
    let flavour = match (goal, &args.command) {
        _ if cache_off => None,
        (dagf_driver::Goal::Files, _) if selected.is_all() => Some("files"),
        (dagf_driver::Goal::Diagnostics, _) => Some("check"),
        _ => None,
    };
    let modules = flavour.map(|f| std::sync::Arc::new(dagf_io::DiskModules::new(&root, f)));
    let options = dagf_driver::Options {
        incremental: modules.is_some(),
        store: modules
            .clone()
            .map(|m| m as std::sync::Arc<dyn dagf_sema::ModuleCache>),
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
        select: selected,
        references: false,
        trace: report
            .recorder
            .clone()
            .map(|r| r as std::sync::Arc<dyn dagf_driver::Trace>),
    };
    let name = proj.config.project.name.as_deref().unwrap_or("the project");
    // A build (writing files) whose inputs and outputs are as the last one left them
    // has nothing to do. (A part of the project is always built: what it selects must
    // be checked against the dags.)
    if goal == dagf_driver::Goal::Files
        && options.select.is_all()
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
            report.collected.up_to_date();
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
    let built = dagf_driver::Session::once().build_project(&proj, &loader, &options);
    if let Some(m) = &modules {
        m.prune();
    }
    report.collected.diagnostics(&built.diagnostics);
    if let Some(ir) = &built.ir {
        for d in &ir.dags {
            report.collected.dag(
                d.scope.as_ref().map(|s| s.tenant.as_str()),
                d.graph.node_count(),
            );
        }
        // A check's dags that went by as they were checked, or were found in the
        // cache: a note of each instead of its IR.
        for b in &ir.built {
            report.collected.dag(b.tenant.as_deref(), b.tasks);
        }
    }
    for f in built.files.iter().filter(|f| !f.dag_id.is_empty()) {
        report.collected.dag(f.tenant.as_deref(), f.tasks);
    }
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
    // Dags that went by as they were checked (`Goal::Diagnostics`) or came from the
    // cache left an entry without text in `built`.
    let dags = ir.dags.len() + ir.built.len();
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
    if matches!(
        args.command,
        Command::ExplainValue { .. }
            | Command::Ls { .. }
            | Command::Inspect { .. }
            | Command::Graph { .. }
    ) {
        printer.print(diags, &checked_sources);
        // A view's own output is its answer; only JSON ends with a summary.
        let status = match &args.command {
            Command::ExplainValue { dag, field, .. } => {
                explain_value(ir, &checked_sources, dag, field)
            }
            command => view(command, ir, &checked_sources),
        };
        if printer.json {
            done(&printer);
        }
        return status;
    }
    match goal {
        dagf_driver::Goal::Check | dagf_driver::Goal::Diagnostics | dagf_driver::Goal::Explain => {
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
    let t = report.now();
    let written = output::write(
        &out_dir,
        &shown_out,
        &files,
        stamp.as_ref(),
        &mut checked_sources,
        &|line| printer.note(line),
        dagf_driver::par::threads(common.jobs),
        !options.select.is_all(),
    );
    let count = files.iter().filter(|f| !f.dag_id.is_empty()).count();
    let file_count = files.len();
    // The process ends right after this: freeing the files piece by piece would only
    // cost time.
    std::mem::forget(files);
    report.phase("write output", t);
    match written {
        Ok(written) => {
            report
                .collected
                .files(written.written, written.unchanged, written.removed);
            let report = written;
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
            report.collected.diagnostics(&failure.diagnostics);
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
pub(crate) fn fail_build(printer: &Printer, built: dagf_driver::Build) -> u8 {
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

/// `dagfc operators import TARGET...`: declarations of the operator classes the
/// targets name or define, asked of the project's Python (or `--python`), on standard
/// output or in `--out`. Nothing is written when a target cannot be imported, or when
/// the declarations would not compile.
fn operators(args: &Args, action: &OperatorsAction) -> u8 {
    let OperatorsAction::Import {
        targets,
        python,
        out,
        force,
        timeout,
        project,
    } = action;
    let printer = Printer::new(args, out.is_none());
    let fail = |diags: Vec<Diagnostic>, sources: &Sources| {
        let n = diags.len();
        printer.print(diags, sources);
        printer.summary(
            &format!("error: {}; nothing was written", counts(n, 0)),
            true,
            facts(n, 0),
        );
        USER_ERROR
    };
    if let Some(out) = out.as_ref().filter(|o| !force && o.exists()) {
        return fail(
            vec![
                Diagnostic::new(Code::E0404, format!("{} exists", out.display()))
                    .with_help("pass --force to replace it, or choose another --out"),
            ],
            &Sources::new(),
        );
    }
    // Inside a project its `[python]` section says which environment to ask; outside
    // one, `python3` (or --python) with nothing added to its path.
    let start = project.start();
    let (config, sources, root) = match project::find_root(&start) {
        Some(root) => {
            // Only `dagf.toml` is read: the source folders may not exist yet.
            let loader = dagf_io::DiskLoader { root: &root };
            let mut sources = Sources::new();
            match dagf_driver::config::load(&loader, &mut sources) {
                Ok(c) => (c.python, sources, root),
                Err(d) => return fail(vec![*d], &sources),
            }
        }
        None => (
            dagf_driver::PythonSection::default(),
            Sources::new(),
            std::env::current_dir().unwrap_or_else(|_| PathBuf::from(".")),
        ),
    };
    let mut env =
        match crate::python::resolve(python.as_deref(), &config, &root, dagf_diag::FileId(0)) {
            Ok(e) => e,
            Err(d) => return fail(vec![*d], &sources),
        };
    if let Some(t) = timeout {
        env.timeout = std::time::Duration::from_secs(*t);
        env.timeout_span = None;
    }
    printer.note(&format!(
        "asking {} about {}",
        env.shown,
        plural(targets.len(), "target")
    ));
    let answer = match env.ask(&crate::python::operators::request(targets), &[]) {
        Ok(a) => a,
        Err(d) => return fail(vec![*d], &sources),
    };
    let command = format!("dagfc operators import {}", targets.join(" "));
    let imported = crate::python::operators::render(targets, &answer, &command);
    if !imported.diagnostics.is_empty() {
        return fail(imported.diagnostics, &sources);
    }
    // The declarations are compiled before they are handed over: what this command
    // writes, `dagfc check` accepts.
    let checked = crate::python::operators::check(&imported.text);
    if !checked.0.is_empty() {
        return fail(checked.0, &checked.1);
    }
    let s = imported.stats;
    let mut line = format!(
        "imported {} and {} ({} fields, {} typed `any`) from {}",
        plural(s.operators, "operator"),
        plural(s.sensors, "sensor"),
        s.fields,
        s.any_fields,
        plural(s.modules, "module"),
    );
    if s.failed_modules > 0 {
        line.push_str(&format!(
            "; {} did not import (listed at the top of the output)",
            plural(s.failed_modules, "module")
        ));
    }
    let facts = serde_json::json!({
        "errors": 0,
        "warnings": 0,
        "operators": s.operators,
        "sensors": s.sensors,
        "fields": s.fields,
        "any_fields": s.any_fields,
        "modules": s.modules,
        "failed_modules": s.failed_modules,
        "skipped": s.skipped,
    });
    let Some(out) = out else {
        out!("{}", imported.text);
        printer.summary(&line, false, facts);
        return 0;
    };
    // A new project's source folder may not exist yet.
    let parent = out.parent().filter(|p| !p.as_os_str().is_empty());
    let written = parent
        .map_or(Ok(()), std::fs::create_dir_all)
        .and_then(|()| {
            std::fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .create_new(!force)
                .open(out)
        })
        .and_then(|mut f| f.write_all(imported.text.as_bytes()));
    match written {
        Ok(()) => {
            printer.summary(&format!("{line}, into {}", out.display()), false, facts);
            0
        }
        Err(e) => fail(
            vec![Diagnostic::new(
                Code::E0404,
                format!("cannot write {}: {e}", out.display()),
            )],
            &Sources::new(),
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
        // Every value the dag sets, as this command names them.
        let mut names: Vec<String> = dag.args.iter().map(|f| f.name.clone()).collect();
        names.extend(
            dag.default_args
                .iter()
                .map(|f| format!("default_args.{}", f.name)),
        );
        for t in dag.tasks() {
            names.extend(t.args.iter().map(|f| format!("{}.{}", t.task_id, f.name)));
        }
        // A misspelt key is compared with the keys its task (or `default_args`) sets;
        // a misspelt task or field of the dag with the whole names.
        let suggestion = match path.rsplit_once('.') {
            Some((owner, key)) => {
                let keys: Vec<&str> = names
                    .iter()
                    .filter_map(|n| n.strip_prefix(owner)?.strip_prefix('.'))
                    .collect();
                if keys.is_empty() {
                    dagf_diag::did_you_mean(path, names.iter().map(String::as_str))
                        .map(str::to_string)
                } else {
                    dagf_diag::did_you_mean(key, keys).map(|k| format!("{owner}.{k}"))
                }
            }
            None => dagf_diag::did_you_mean(
                path,
                names
                    .iter()
                    .map(String::as_str)
                    .filter(|n| !n.contains('.')),
            )
            .map(str::to_string),
        };
        match suggestion {
            Some(c) => errln!("help: did you mean `{c}`?"),
            None => errln!(
                "help: if nothing sets it, Airflow's default applies; `dagfc inspect {dag_id}` lists every value the dag sets"
            ),
        }
        return USER_ERROR;
    };
    outln!("{dag_id}: {path} = {}", dagf_ir::value_text(&field.value));
    let last = field.provenance.len().saturating_sub(1);
    for (i, (layer, span)) in field.provenance.iter().enumerate().rev() {
        let file = sources.get(span.file);
        let at = file.line_col(span.start);
        let line = file.text.lines().nth(at.line - 1).unwrap_or("").trim();
        // A record that lacked the field, before the declared default it took.
        let took_default = field
            .provenance
            .get(i + 1)
            .is_some_and(|(l, _)| l.starts_with("the declared default"));
        let role = if i == last {
            "set by"
        } else if took_default {
            "   for"
        } else {
            "  over"
        };
        outln!(
            "  {role} {layer} at {}:{}:{}: {line}",
            file.name,
            at.line,
            at.col
        );
    }
    0
}

/// `ls`, `inspect` and `graph`: the project's dags, one dag in detail, one dag drawn.
fn view(command: &Command, ir: &dagf_ir::Project, sources: &Sources) -> u8 {
    let find = |dag_id: &str| {
        dagf_view::find_dag(ir, dag_id).map_err(|message| {
            errln!("error: {message}");
            USER_ERROR
        })
    };
    match command {
        Command::Ls {
            pattern,
            tenant,
            format,
            ..
        } => {
            let filter = dagf_view::Filter {
                pattern: pattern.as_deref(),
                tenant: tenant.as_deref(),
            };
            let rows = dagf_view::rows(ir, sources, filter);
            match format {
                ListFormat::Table => out!("{}", dagf_view::table(&rows)),
                ListFormat::Json => {
                    let rows: Vec<serde_json::Value> = rows
                        .iter()
                        .map(|r| {
                            serde_json::json!({
                                "dag_id": r.dag_id, "file": r.file, "tenant": r.tenant,
                                "schedule": r.schedule, "tasks": r.tasks, "source": r.source,
                            })
                        })
                        .collect();
                    outln!("{}", serde_json::Value::Array(rows));
                }
            }
            0
        }
        Command::Inspect { dag, .. } => match find(dag) {
            Ok(dag) => {
                out!("{}", dagf_view::inspect(dag, sources));
                0
            }
            Err(status) => status,
        },
        Command::Graph {
            dag, format, out, ..
        } => {
            let dag = match find(dag) {
                Ok(d) => d,
                Err(status) => return status,
            };
            let text = match format {
                GraphFormat::Svg => dagf_view::svg(dag),
                GraphFormat::Html => dagf_view::html(dag),
                GraphFormat::Dot => dagf_view::dot(dag),
                GraphFormat::Mermaid => dagf_view::mermaid(dag),
            };
            match out {
                None => {
                    out!("{text}");
                    0
                }
                Some(path) => match std::fs::write(path, text) {
                    Ok(()) => 0,
                    Err(e) => {
                        errln!("error: cannot write {}: {e}", path.display());
                        USER_ERROR
                    }
                },
            }
        }
        _ => USER_ERROR,
    }
}

/// `dagfc diff`: builds both sides with the layers of each value kept, and prints what
/// changed from the old to the new.
fn diff(
    args: &Args,
    common: &BuildArgs,
    rev: Option<&str>,
    from_env: Option<&str>,
    format: DiffFormat,
) -> u8 {
    let printer = Printer::new(args, true);
    let fail = |d: Diagnostic| printer.fail(d, &Sources::new());
    let start = common.project.start();
    let Some(root) = project::find_root(&start) else {
        return fail(project::not_found(&start));
    };
    let build = |root: &Path, env: Option<String>| {
        let loader = dagf_io::DiskLoader { root };
        let proj = dagf_driver::Project::load(&loader)?;
        let options = dagf_driver::Options {
            goal: dagf_driver::Goal::Explain,
            env,
            env_vars: std::env::vars().collect(),
            threads: common.jobs,
            target: common.target,
            ..Default::default()
        };
        let built = dagf_driver::Session::once().build_project(&proj, &loader, &options);
        if built.ir.is_some() {
            Ok(built)
        } else {
            Err(Box::new(built))
        }
    };
    let new = match build(&root, common.env.clone()) {
        Ok(b) => b,
        Err(b) => return fail_build(&printer, *b),
    };
    // The old side's files, for a revision, live as long as this.
    let mut checkout = None;
    let (old_root, old_env, label) = match from_env {
        Some(env) => (
            root.clone(),
            Some(env.to_string()),
            format!("environment `{env}`"),
        ),
        None => {
            let rev = rev.unwrap_or("HEAD");
            match gitrev::checkout(&root, rev) {
                Ok(dir) => {
                    let path = dir.path().to_path_buf();
                    checkout = Some(dir);
                    (path, common.env.clone(), format!("`{rev}`"))
                }
                Err(why) => {
                    return fail(
                        Diagnostic::new(
                            Code::E0409,
                            format!("cannot read the project at `{rev}`: {why}"),
                        )
                        .with_help(
                            "name a commit that has the project (`git log --oneline -- .`), or compare environments with `--from-env`",
                        ),
                    );
                }
            }
        }
    };
    let old = match build(&old_root, old_env) {
        Ok(b) => b,
        Err(b) => {
            errln!("error: the old side ({label}) does not build:");
            return fail_build(&printer, *b);
        }
    };
    drop(checkout);
    let (Some(o), Some(n)) = (&old.ir, &new.ir) else {
        return USER_ERROR;
    };
    print_changes(&dagf_view::diff(o, n), format, &old.sources, &new.sources)
}

/// `dagfc diff --folder DIR`: the folder and a fresh build of the sources, both as the
/// project's Airflow loads them, compared; each change named by the current build's
/// layer that makes it.
fn diff_folder(
    args: &Args,
    common: &BuildArgs,
    folder: &Path,
    python: Option<&Path>,
    format: DiffFormat,
) -> u8 {
    let printer = Printer::new(args, true);
    let fail = |d: Diagnostic, sources: &Sources| printer.fail(d, sources);
    let start = common.project.start();
    let Some(root) = project::find_root(&start) else {
        return fail(project::not_found(&start), &Sources::new());
    };
    let dir = match folder.canonicalize() {
        Ok(p) if p.is_dir() => p,
        _ => {
            return fail(
                Diagnostic::new(
                    Code::E0409,
                    format!("cannot read the output folder `{}`: it is not a folder", folder.display()),
                )
                .with_help("name the folder a `dagfc build` wrote (its `--out`), or the deployed copy of it"),
                &Sources::new(),
            );
        }
    };
    let loader = dagf_io::DiskLoader { root: &root };
    let proj = match dagf_driver::Project::load(&loader) {
        Ok(p) => p,
        Err(stopped) => {
            printer.print(stopped.diagnostics, &stopped.sources);
            return USER_ERROR;
        }
    };
    let build = |goal| {
        let options = dagf_driver::Options {
            goal,
            env: common.env.clone(),
            env_vars: std::env::vars().collect(),
            threads: common.jobs,
            target: common.target,
            ..Default::default()
        };
        dagf_driver::Session::new().build_project(&proj, &loader, &options)
    };
    // The layers of each value, and the files Airflow is given.
    let explained = build(dagf_driver::Goal::Explain);
    if explained.ir.is_none() || !explained.ok() {
        return fail_build(&printer, explained);
    }
    let made = build(dagf_driver::Goal::Python);
    if !made.ok() {
        return fail_build(&printer, made);
    }
    let Some(ir) = &explained.ir else {
        return USER_ERROR;
    };
    let env = match crate::python::resolve(python, &proj.config.python, &root, proj.toml()) {
        Ok(e) => e,
        Err(d) => return fail(*d, &explained.sources),
    };
    printer.note(&format!(
        "loading `{}` and a fresh build in {}'s Airflow",
        folder.display(),
        env.shown
    ));
    let shown = folder.display().to_string();
    let shown = shown.trim_end_matches('/');
    let found = match crate::folder_diff::compare_folder(&env, ir, &made.files, &dir, shown) {
        Ok(f) => f,
        Err(d) => return fail(*d, &explained.sources),
    };
    for (file, error) in &found.broken {
        errln!(
            "note: `{shown}/{file}` does not import in Airflow ({error}); its dags count as absent"
        );
    }
    print_changes(&found.changes, format, &found.old, &explained.sources)
}

/// Prints a diff's changes as text or JSON; the exit status: [`DIFFERENT`] if any.
fn print_changes(
    changes: &[dagf_view::Change],
    format: DiffFormat,
    old: &Sources,
    new: &Sources,
) -> u8 {
    match format {
        DiffFormat::Text => out!("{}", dagf_view::render_diff(changes, old, new)),
        DiffFormat::Json => {
            let list: Vec<serde_json::Value> =
                changes.iter().map(|c| change_json(c, old, new)).collect();
            outln!("{}", serde_json::Value::Array(list));
        }
    }
    if changes.is_empty() { 0 } else { DIFFERENT }
}

/// One change as JSON: its kind, dag, what changed and where.
fn change_json(c: &dagf_view::Change, old: &Sources, new: &Sources) -> serde_json::Value {
    use dagf_view::Change as C;
    let at = dagf_view::place;
    let mut v = match c {
        C::DagAdded { at: s, .. } => serde_json::json!({ "kind": "dag_added", "at": at(new, *s) }),
        C::DagRemoved { at: s, .. } => {
            serde_json::json!({ "kind": "dag_removed", "was_at": at(old, *s) })
        }
        C::Moved { old: o, new: n, .. } => {
            serde_json::json!({ "kind": "moved", "old": o, "new": n })
        }
        C::TaskAdded {
            task, op, at: s, ..
        } => {
            serde_json::json!({ "kind": "task_added", "task": task, "operator": op, "at": at(new, *s) })
        }
        C::TaskRemoved { task, at: s, .. } => {
            serde_json::json!({ "kind": "task_removed", "task": task, "was_at": at(old, *s) })
        }
        C::Operator {
            task,
            old: o,
            new: n,
            at: s,
            ..
        } => {
            serde_json::json!({ "kind": "operator", "task": task, "old": o, "new": n, "at": at(new, *s) })
        }
        C::EdgeAdded {
            from, to, at: s, ..
        } => {
            serde_json::json!({ "kind": "edge_added", "from": from, "to": to, "at": at(new, *s) })
        }
        C::EdgeRemoved { from, to, .. } => {
            serde_json::json!({ "kind": "edge_removed", "from": from, "to": to })
        }
        C::Field {
            path,
            old: o,
            new: n,
            layer,
            in_old,
            ..
        } => {
            let (layer, place) = match layer {
                Some((l, s)) => (
                    Some(l.clone()),
                    Some(at(if *in_old { old } else { new }, *s)),
                ),
                None => (None, None),
            };
            serde_json::json!({
                "kind": "field", "path": path, "old": o, "new": n,
                "layer": layer, "at": place, "in_old": in_old,
            })
        }
    };
    v["dag"] = c.dag().into();
    v
}

/// `build`'s options: output folder, optimisation level, what to emit, style, and
/// the dags to make.
type BuildOptions = (
    Option<PathBuf>,
    u8,
    Option<Emit>,
    Option<project::StyleName>,
    dagf_driver::Selection,
);

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
