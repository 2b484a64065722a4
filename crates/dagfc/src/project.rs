//! The project on disk: found by walking up from the working directory, like
//! `Cargo.toml`; `dagf.toml` itself is read by the driver.

use std::path::{Path, PathBuf};

pub use dagf_driver::FILE;

/// `--style`: the command line's name for a [`dagf_driver::StyleName`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum StyleName {
    /// `with DAG(...):` and operator classes.
    Classic,
    /// `@dag` functions, and `@task` for Python callables.
    Taskflow,
}

impl StyleName {
    pub fn driver(self) -> dagf_driver::StyleName {
        match self {
            StyleName::Classic => dagf_driver::StyleName::Classic,
            StyleName::Taskflow => dagf_driver::StyleName::Taskflow,
        }
    }
}

/// A project on disk: its root folder and configuration.
#[derive(Debug)]
pub struct Project<'a> {
    pub root: &'a Path,
    pub config: &'a dagf_driver::Config,
}

/// The error of a command run outside any project: no `dagf.toml` in `start` or above.
pub fn not_found(start: &Path) -> dagf_diag::Diagnostic {
    dagf_diag::Diagnostic::new(
        dagf_diag::Code::E0403,
        format!("no {FILE} in {} or any folder above it", start.display()),
    )
    .with_help("run `dagfc new NAME` to create a project, or pass --project DIR")
}

/// Walks up from `start` to the nearest folder holding `dagf.toml`.
pub fn find_root(start: &Path) -> Option<PathBuf> {
    start
        .ancestors()
        .find(|d| d.join(FILE).is_file())
        .map(Path::to_path_buf)
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
    use dagf_sema::glob_match;

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
