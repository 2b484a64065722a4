//! `dagf.toml`: the project's settings, read through the [`Loader`] and checked, and
//! the project's source files, found through it.

use dagf_diag::{Code, Diagnostic, FileId, Sources, Span};
use dagf_sema::{Loader, ReadError};
use serde::Deserialize;

/// The project file's name, at the top of the project.
pub const FILE: &str = "dagf.toml";

/// The settings of `dagf.toml`.
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// `[project]`: its name, its folders and its default environment.
    #[serde(default)]
    pub project: ProjectSection,
    /// `[target]`: the Airflow it is built for, and where its files are deployed.
    #[serde(default)]
    pub target: TargetSection,
    /// `[codegen]`: how the generated files are written.
    #[serde(default)]
    pub codegen: CodegenSection,
    /// `[python]`: the project's Python environment, for `dagfc check --python` and
    /// `dagfc verify`.
    #[serde(default)]
    pub python: PythonSection,
}

/// `[python]`: the interpreter of the project's Python environment and the folders of
/// its own modules. Read only by the commands that run Python.
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct PythonSection {
    /// `interpreter = "..."`: a path relative to the project (when it holds a `/`), or a
    /// name looked up on PATH (`python3` unless set).
    #[serde(default)]
    pub interpreter: Option<toml::Spanned<String>>,
    /// `path = ["python"]`: folders of the project's own modules, relative to the
    /// project, put on PYTHONPATH.
    #[serde(default)]
    pub path: Vec<toml::Spanned<String>>,
    /// `timeout = 120`: seconds one run of the Python helper may take (60 unless set).
    #[serde(default)]
    pub timeout: Option<toml::Spanned<u64>>,
}

/// `[codegen]`: how the generated files are written.
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct CodegenSection {
    /// `style = ...`: the style of every dag no `[[codegen.dags]]` rule matches (classic unless set).
    #[serde(default)]
    pub style: StyleName,
    /// `[[codegen.dags]]`: settings for the dags whose id matches a pattern.
    #[serde(default)]
    pub dags: Vec<DagRule>,
}

/// `[[codegen.dags]] match = "reports_*", style = "taskflow"`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DagRule {
    /// A dag_id, with `*` standing for any run of characters.
    #[serde(rename = "match")]
    pub pattern: toml::Spanned<String>,
    /// `style = ...`: the style of the dags the pattern matches.
    pub style: StyleName,
}

impl CodegenSection {
    /// The style of one dag: the last rule that matches its id, else the project's.
    pub fn style_of(&self, dag_id: &str) -> StyleName {
        self.dags
            .iter()
            .rev()
            .find(|r| dagf_sema::glob_match(r.pattern.get_ref(), dag_id))
            .map_or(self.style, |r| r.style)
    }

    /// E0402 for a rule that matches none of `dag_ids`: a stale or misspelt pattern.
    pub fn check_rules<'a>(
        &self,
        dag_ids: impl Iterator<Item = &'a str> + Clone,
        file: FileId,
    ) -> Result<(), Box<Diagnostic>> {
        for rule in &self.dags {
            if !dag_ids
                .clone()
                .any(|id| dagf_sema::glob_match(rule.pattern.get_ref(), id))
            {
                let r = rule.pattern.span();
                return Err(Box::new(
                    Diagnostic::at(
                        Code::E0402,
                        Span::new(file, r.start, r.end),
                        format!("`{}` matches no dag", rule.pattern.get_ref()),
                        "matches nothing",
                    )
                    .with_help(
                        "fix the pattern (`*` matches any run of characters), or remove the rule",
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// `style = "classic" | "taskflow"`.
#[derive(Debug, Deserialize, Default, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum StyleName {
    /// `with DAG(...):` and operator classes.
    #[default]
    Classic,
    /// `@dag` functions, and `@task` for Python callables.
    Taskflow,
}

impl StyleName {
    /// The Python backend's style of this name.
    pub fn style(self) -> dagf_py::Style {
        match self {
            StyleName::Classic => dagf_py::Style::Classic,
            StyleName::Taskflow => dagf_py::Style::Taskflow,
        }
    }
}

/// `[project]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProjectSection {
    /// `name = "..."`: what `dagfc` calls the project when it reports a build.
    #[serde(default)]
    pub name: Option<String>,
    /// Folders holding `.dagf` files, relative to the project root.
    #[serde(default = "default_src")]
    pub src: Vec<String>,
    /// The folder the build writes, relative to the project root (with where it is
    /// written, for an output folder that is refused).
    #[serde(default = "default_out")]
    pub out: toml::Spanned<String>,
    /// The environment built for when neither `--env` nor `DAGF_ENV` says (with where
    /// it is written, for an unknown one).
    #[serde(default)]
    pub default_env: Option<toml::Spanned<String>>,
}

impl Default for ProjectSection {
    fn default() -> Self {
        ProjectSection {
            name: None,
            src: default_src(),
            out: default_out(),
            default_env: None,
        }
    }
}

/// `[target]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetSection {
    #[serde(default = "default_airflow")]
    /// `airflow = "3.3"`: the Airflow version built for, checked to be one dagf knows (3.3 unless set).
    pub airflow: String,
    /// Where the output folder is deployed, for files that name absolute paths (the
    /// teams' bundles).
    #[serde(default = "default_dags_folder")]
    pub dags_folder: String,
}

impl TargetSection {
    /// The Airflow version the project targets (`load` has checked `airflow`).
    pub fn version(&self) -> dagf_target::Version {
        dagf_target::Version::parse(&self.airflow).unwrap_or(dagf_target::Version::DEFAULT)
    }
}

impl Default for TargetSection {
    fn default() -> Self {
        TargetSection {
            airflow: default_airflow(),
            dags_folder: default_dags_folder(),
        }
    }
}

/// The dags folder of Airflow's official container image.
fn default_dags_folder() -> String {
    "/opt/airflow/dags".into()
}

fn default_src() -> Vec<String> {
    vec!["src".into()]
}
fn default_out() -> toml::Spanned<String> {
    toml::Spanned::new(0..0, "dags".into())
}
fn default_airflow() -> String {
    "3.3".into()
}

/// Reads and checks `dagf.toml`; it goes into `sources` (first), and errors point
/// into it.
pub fn load(loader: &dyn Loader, sources: &mut Sources) -> Result<Config, Box<Diagnostic>> {
    let bytes = loader.read(FILE).map_err(|e| {
        Box::new(match e {
            ReadError::NotFound => {
                Diagnostic::new(Code::E0403, format!("the project has no {FILE}"))
                    .with_help("run `dagfc new NAME` to create a project, or pass --project DIR")
            }
            e => Diagnostic::new(Code::E0404, format!("cannot read {FILE}: {e}"))
                .with_help("check the file's permissions"),
        })
    })?;
    let text =
        dagf_sema::decode(bytes).map_err(|e| Box::new(dagf_sema::not_text(FILE, e, sources).1))?;
    let file = sources.add(FILE, text);
    let text = &sources.get(file).text;
    let config: Config = toml::from_str(text).map_err(|e| {
        let span = e.span().map_or(Span::new(file, 0, 0), |r| Span::new(file, r.start, r.end));
        Box::new(
            Diagnostic::at(Code::E0402, span, "invalid dagf.toml", e.message().to_string())
                .with_help("dagf.toml has [project] name, src, out, [target] airflow and [python] interpreter, path; see the book's project chapter"),
        )
    })?;
    if dagf_target::Version::parse(&config.target.airflow).is_none() {
        let at = text
            .find("airflow")
            .and_then(|k| {
                text[k..]
                    .find(config.target.airflow.as_str())
                    .map(|v| k + v)
            })
            .unwrap_or(0);
        return Err(Box::new(
            Diagnostic::at(
                Code::E0402,
                Span::new(file, at, at + config.target.airflow.len()),
                format!("unsupported Airflow target `{}`", config.target.airflow),
                "not a supported target",
            )
            .with_help(format!(
                "dagfc generates code for Airflow {}: write one of them, such as `airflow = \"3.3\"`",
                dagf_target::Version::ALL.map(|v| v.as_str()).join(", ")
            )),
        ));
    }
    if let Some(t) = config.python.timeout.as_ref().filter(|t| *t.get_ref() == 0) {
        let r = t.span();
        return Err(Box::new(
            Diagnostic::at(
                Code::E0402,
                Span::new(file, r.start, r.end),
                "`timeout` is 0 seconds",
                "no time at all",
            )
            .with_help("write how many seconds the Python helper may take, such as `timeout = 60` (the default)"),
        ));
    }
    let dags_folder = &config.target.dags_folder;
    if !dags_folder.starts_with('/') || dags_folder.chars().any(char::is_control) {
        let at = text
            .find("dags_folder")
            .and_then(|k| text[k..].find(dags_folder.as_str()).map(|v| k + v))
            .unwrap_or(0);
        return Err(Box::new(
            Diagnostic::at(
                Code::E0402,
                Span::new(file, at, at + dags_folder.len()),
                format!("`dags_folder` is `{dags_folder}`, not an absolute path"),
                "not an absolute path",
            )
            .with_help("write where Airflow finds the output folder, such as \"/opt/airflow/dags\": Airflow reads a relative path from wherever it was started"),
        ));
    }
    Ok(config)
}

/// Every `.dagf` file under the source folders, as `/`-separated paths relative to the
/// project, sorted. Links to folders are not followed (a link to a file is a file).
pub fn source_files(config: &Config, loader: &dyn Loader) -> Result<Vec<String>, Box<Diagnostic>> {
    let mut out = Vec::new();
    for src in &config.project.src {
        let dir = normalise(src);
        if !loader.is_folder(&dir) {
            return Err(Diagnostic::new(
                Code::E0404,
                format!("source folder `{src}` does not exist"),
            )
            .with_help("create it, or fix `src` in dagf.toml")
            .into());
        }
        walk(loader, &dir, &mut out).map_err(|e| {
            Diagnostic::new(Code::E0404, format!("cannot list `{src}`: {e}"))
                .with_help("check the folder's permissions")
        })?;
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// `src`, `./src/`, `a//b`: the folder as the loader names it (`""` is the project).
fn normalise(dir: &str) -> String {
    let parts = dir
        .split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect::<Vec<_>>()
        .join("/");
    match dir.starts_with('/') {
        true => format!("/{parts}"),
        false => parts,
    }
}

fn walk(loader: &dyn Loader, dir: &str, out: &mut Vec<String>) -> Result<(), String> {
    let folders = loader.subfolders(dir)?;
    let mut names = loader.list(dir)?;
    names.sort();
    for name in names {
        let path = match dir {
            "" => name.clone(),
            d => format!("{d}/{name}"),
        };
        if folders.contains(&name) {
            walk(loader, &path, out)?;
        } else if name.len() > ".dagf".len() && name.ends_with(".dagf") {
            out.push(path);
        }
    }
    Ok(())
}
