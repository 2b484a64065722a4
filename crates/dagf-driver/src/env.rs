//! The environment a build is for, and where that choice came from.

use dagf_diag::Span;

/// Where the environment's name came from, first match wins.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EnvOrigin {
    /// The command line's `--env` (a tool's own choice).
    Flag,
    /// The `DAGF_ENV` variable among the environment variables handed in.
    Variable,
    /// `default_env` in `dagf.toml`, written at this span.
    ProjectDefault(Span),
}

impl EnvOrigin {
    /// How messages name it: "`--env`", "`DAGF_ENV`", "`default_env` in dagf.toml".
    pub fn describe(&self) -> String {
        match self {
            EnvOrigin::Flag => "`--env`".to_string(),
            EnvOrigin::Variable => "`DAGF_ENV`".to_string(),
            EnvOrigin::ProjectDefault(_) => format!("`default_env` in {}", crate::config::FILE),
        }
    }

    /// Where a file of the project chooses it.
    pub fn span(&self) -> Option<Span> {
        match self {
            EnvOrigin::ProjectDefault(s) => Some(*s),
            _ => None,
        }
    }
}

/// The environment chosen for a build.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Env {
    /// The environment's name, as `profile NAME` declares it and `env` reads it (`dev`).
    pub name: String,
    /// Which of `--env`, `DAGF_ENV` and `default_env` chose it.
    pub origin: EnvOrigin,
}

/// `DAGF_ENV`: the variable that chooses the environment when the flag does not.
pub const ENV_VAR: &str = "DAGF_ENV";

/// The flag, else a non-empty `DAGF_ENV`, else the project's `default_env` (`toml` is
/// `dagf.toml`'s file, for the span).
pub fn choose(
    flag: Option<&str>,
    vars: &std::collections::BTreeMap<String, String>,
    config: &crate::Config,
    toml: dagf_diag::FileId,
) -> Option<Env> {
    if let Some(name) = flag {
        return Some(Env {
            name: name.to_string(),
            origin: EnvOrigin::Flag,
        });
    }
    if let Some(name) = vars.get(ENV_VAR).filter(|e| !e.is_empty()) {
        return Some(Env {
            name: name.clone(),
            origin: EnvOrigin::Variable,
        });
    }
    config.project.default_env.as_ref().map(|e| {
        let at = e.span();
        Env {
            name: e.get_ref().clone(),
            origin: EnvOrigin::ProjectDefault(Span::new(toml, at.start, at.end)),
        }
    })
}
