//! Where the output folder may be. A build replaces and removes files there, so it
//! must be a folder of its own: not the file system's root, not the project's folder
//! or one that holds it, not a source folder, one inside a source folder or one that
//! holds a source folder, not a folder with a `dagf.toml` (another project), and not a
//! file or inside one.

use crate::project::{self, Project};
use dagf_diag::{Code, Diagnostic, FileId, Span};
use std::path::{Component, Path, PathBuf};

/// The output folder, resolved, and as the user should read it.
pub struct OutDir {
    /// Absolute, with the symbolic links of the part that exists resolved.
    pub path: PathBuf,
    /// Relative to the project when inside it, else absolute.
    pub shown: String,
}

/// The output folder of a build: `flag` (`--out`, relative to the working folder), else
/// `out` of dagf.toml (relative to the project; `toml` is dagf.toml's file, for the
/// label). E0406 when it is not a place a build may write.
pub fn resolve(
    flag: Option<&Path>,
    proj: &Project<'_>,
    toml: Option<FileId>,
) -> Result<OutDir, Box<Diagnostic>> {
    let configured = &proj.config.project.out;
    let given = match flag {
        Some(f) => f.to_path_buf(),
        None => proj.root.join(configured.get_ref()),
    };
    let root = resolve_path(proj.root);
    let path = resolve_path(&given);
    let shown = project::relative(&path, &root);
    let shown = if shown.is_empty() {
        ".".to_string()
    } else {
        shown
    };
    // Where the folder was chosen, for the message and the label.
    let written = configured.span();
    let label = match (flag, toml) {
        (None, Some(file)) if !written.is_empty() => {
            Some(Span::new(file, written.start, written.end))
        }
        _ => None,
    };
    let chosen = if flag.is_some() {
        "`--out`"
    } else {
        "`out` in dagf.toml"
    };
    let refuse = |message: String, help: &str| {
        let d = Diagnostic::new(Code::E0406, message).with_help(help.to_string());
        Box::new(match &label {
            Some(span) => d.with_primary(*span, "the output folder is chosen here"),
            None => d.with_note(format!("the output folder is chosen by {chosen}")),
        })
    };
    let own = "choose a folder of its own for the generated files, such as `dags` in the project";

    // The deepest part of the path that exists must be a folder.
    if let Some(existing) = path.ancestors().find(|p| p.symlink_metadata().is_ok())
        && !existing.is_dir()
    {
        let message = if existing == path {
            format!("the output folder `{shown}` exists and is not a folder")
        } else {
            format!(
                "the output folder `{shown}` would be inside `{}`, which is a file",
                project::relative(existing, &root)
            )
        };
        return Err(refuse(message, own));
    }
    if path.parent().is_none() {
        return Err(refuse(
            format!("the output folder `{shown}` is the root of the file system"),
            own,
        ));
    }
    if root.starts_with(&path) {
        let message = if root == path {
            format!("the output folder `{shown}` is the project's folder")
        } else {
            format!("the output folder `{shown}` holds the project's folder")
        };
        return Err(refuse(message, own));
    }
    for src in &proj.config.project.src {
        let src_path = resolve_path(&proj.root.join(src));
        let overlap = if path == src_path {
            Some("is")
        } else if path.starts_with(&src_path) {
            Some("is inside")
        } else if src_path.starts_with(&path) {
            Some("holds")
        } else {
            None
        };
        if let Some(how) = overlap {
            return Err(refuse(
                format!("the output folder `{shown}` {how} the source folder `{src}`"),
                "keep the generated files and the sources in separate folders, neither inside the other",
            ));
        }
    }
    if path.join(project::FILE).exists() {
        return Err(refuse(
            format!(
                "the output folder `{shown}` holds a {}: it is a project's folder",
                project::FILE
            ),
            own,
        ));
    }
    Ok(OutDir { path, shown })
}

/// `p` made absolute, with the symbolic links of the part that exists resolved, and
/// `.` and `..` in the rest taken away by name.
fn resolve_path(p: &Path) -> PathBuf {
    let absolute = std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    if let Ok(real) = absolute.canonicalize() {
        return real;
    }
    // The deepest part that exists, then the rest by name.
    let mut rest = Vec::new();
    let mut base = absolute.as_path();
    let mut resolved = loop {
        match base.canonicalize() {
            Ok(real) => break real,
            Err(_) => match (base.parent(), base.components().next_back()) {
                (Some(parent), Some(last)) => {
                    rest.push(last);
                    base = parent;
                }
                _ => break base.to_path_buf(),
            },
        }
    };
    for part in rest.into_iter().rev() {
        match part {
            Component::ParentDir => {
                resolved.pop();
            }
            Component::CurDir => {}
            other => resolved.push(other),
        }
    }
    resolved
}
