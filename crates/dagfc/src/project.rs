//! `dagf.toml`: found by walking up from the working directory, like `Cargo.toml`.

use dagf_diag::{Code, Diagnostic, FileId, Sources, Span};
use serde::Deserialize;
use std::path::{Path, PathBuf};

pub const FILE: &str = "dagf.toml";

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub project: ProjectSection,
    #[serde(default)]
    pub target: TargetSection,
    #[serde(default)]
    pub codegen: CodegenSection,
}

/// `[codegen]`: how the generated files are written.
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct CodegenSection {
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
    pub style: StyleName,
}

impl CodegenSection {
    /// The style of one dag: the last rule that matches its id, else the project's.
    pub fn style_of(&self, dag_id: &str) -> StyleName {
        self.dags
            .iter()
            .rev()
            .find(|r| glob_match(r.pattern.get_ref(), dag_id))
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
                .any(|id| glob_match(rule.pattern.get_ref(), id))
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

pub use dagf_sema::glob_match;

/// `style = "classic" | "taskflow"`.
#[derive(Debug, Deserialize, Default, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum StyleName {
    /// `with DAG(...):` and operator classes.
    #[default]
    Classic,
    /// `@dag` functions, and `@task` for Python callables.
    Taskflow,
}

impl StyleName {
    pub fn style(self) -> dagf_py::Style {
        match self {
            StyleName::Classic => dagf_py::Style::Classic,
            StyleName::Taskflow => dagf_py::Style::Taskflow,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProjectSection {
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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetSection {
    #[serde(default = "default_airflow")]
    pub airflow: String,
}

impl TargetSection {
    /// The Airflow the project targets (`load` has checked `airflow`).
    pub fn target(&self) -> dagf_target::Target {
        dagf_target::Target::new(
            dagf_target::Version::parse(&self.airflow).unwrap_or(dagf_target::Version::DEFAULT),
        )
    }
}

impl Default for TargetSection {
    fn default() -> Self {
        TargetSection {
            airflow: default_airflow(),
        }
    }
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

/// A loaded project: its root folder and configuration.
#[derive(Debug)]
pub struct Project {
    pub root: PathBuf,
    pub config: Config,
}

/// Walks up from `start` to the nearest folder holding `dagf.toml`.
pub fn find_root(start: &Path) -> Option<PathBuf> {
    start
        .ancestors()
        .find(|d| d.join(FILE).is_file())
        .map(Path::to_path_buf)
}

/// Reads and checks `dagf.toml`; errors point into the file.
pub fn load(root: &Path, sources: &mut Sources) -> Result<Project, Box<Diagnostic>> {
    let path = root.join(FILE);
    let text = std::fs::read_to_string(&path).map_err(|e| {
        Diagnostic::new(Code::E0404, format!("cannot read {}: {e}", path.display()))
            .with_help("check the file's permissions")
    })?;
    let file = sources.add(FILE, text.clone());
    let config: Config = toml::from_str(&text).map_err(|e| {
        let span = e.span().map_or(Span::new(file, 0, 0), |r| Span::new(file, r.start, r.end));
        Box::new(
            Diagnostic::at(Code::E0402, span, "invalid dagf.toml", e.message().to_string())
                .with_help("dagf.toml has [project] name, src, out and [target] airflow; see the book's project chapter"),
        )
    })?;
    if dagf_target::Version::parse(&config.target.airflow).is_none() {
        let at = text.find(&config.target.airflow).unwrap_or(0);
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
    Ok(Project {
        root: root.to_path_buf(),
        config,
    })
}

/// Every `.dagf` file under the source folders, as `/`-separated paths relative to the root.
pub fn source_files(project: &Project) -> Result<Vec<String>, Box<Diagnostic>> {
    let mut out = Vec::new();
    for src in &project.config.project.src {
        let dir = project.root.join(src);
        if !dir.is_dir() {
            return Err(Diagnostic::new(
                Code::E0404,
                format!("source folder `{src}` does not exist"),
            )
            .with_help("create it, or fix `src` in dagf.toml")
            .into());
        }
        walk(&dir, &project.root, &mut out).map_err(|e| {
            Diagnostic::new(Code::E0404, format!("cannot list `{src}`: {e}"))
                .with_help("check the folder's permissions")
        })?;
    }
    out.sort();
    out.dedup();
    Ok(out)
}

fn walk(dir: &Path, root: &Path, out: &mut Vec<String>) -> std::io::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let p = e.path();
        if e.file_type()?.is_dir() {
            walk(&p, root, out)?;
        } else if p.extension().is_some_and(|x| x == "dagf") {
            out.push(relative(&p, root));
        }
    }
    Ok(())
}

pub fn relative(p: &Path, root: &Path) -> String {
    let Ok(rel) = p.strip_prefix(root) else {
        // Outside the project: the path as given.
        return p.display().to_string();
    };
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::glob_match;

    #[test]
    fn globs() {
        assert!(glob_match("abc", "abc"));
        assert!(!glob_match("abc", "abcd"));
        assert!(glob_match("ab*", "abcd"));
        assert!(glob_match("*cd", "abcd"));
        assert!(glob_match("a*d", "abcd"));
        assert!(glob_match("a*b*d", "abcd"));
        assert!(!glob_match("a*c*c", "abc"));
        assert!(glob_match("*", ""));
        assert!(!glob_match("ab*ba", "aba"));
        assert!(glob_match("ab*ba", "abba"));
    }
}
