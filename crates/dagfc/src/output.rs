//! Writing the output folder safely: everything is staged in a temporary folder and
//! moved into place only when the whole build succeeded; a manifest lists what the
//! build wrote, so stale files go and files the build did not write are never touched.

use dagf_diag::{Code, Diagnostic, Span};
use std::collections::BTreeMap;
use std::path::Path;

pub const MANIFEST: &str = ".dagf-manifest.json";

/// What a write did, for the summary line.
#[derive(Debug, Default)]
pub struct Report {
    pub written: usize,
    pub unchanged: usize,
    pub removed: usize,
}

/// A file to write, and the declaration it comes from (for error labels).
pub struct Planned {
    pub name: String,
    pub text: String,
    pub span: Span,
}

fn read_manifest(out: &Path) -> Vec<String> {
    let Ok(text) = std::fs::read_to_string(out.join(MANIFEST)) else {
        return Vec::new();
    };
    serde_json::from_str::<serde_json::Value>(&text)
        .ok()
        .and_then(|v| v.get("files").cloned())
        .and_then(|f| serde_json::from_value::<Vec<String>>(f).ok())
        .unwrap_or_default()
}

/// Checks, then writes. On any error nothing in `out` has changed.
/// `shown` is the output folder as the user should read it (relative to the project).
pub fn write(out: &Path, shown: &str, files: &[Planned]) -> Result<Report, Vec<Diagnostic>> {
    let previous = read_manifest(out);
    let mut errors = Vec::new();
    for f in files {
        let target = out.join(&f.name);
        if target.exists() && !previous.contains(&f.name) {
            errors.push(
                Diagnostic::at(
                    Code::E0401,
                    f.span,
                    format!("`{shown}/{}` exists and was not written by dagfc", f.name),
                    "this dag would overwrite it",
                )
                .with_help("move or rename that file, or rename this dag; dagfc never overwrites files it did not write"),
            );
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let io = |e: std::io::Error, what: &str| {
        vec![
            Diagnostic::new(Code::E0404, format!("cannot {what}: {e}"))
                .with_help("check the output folder's permissions and free space"),
        ]
    };
    std::fs::create_dir_all(out).map_err(|e| io(e, &format!("create {}", out.display())))?;
    // Staged beside the output folder (same file system, so moves are renames), never
    // inside it, where Airflow could pick up a half-finished file.
    let parent = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let stage = tempfile::Builder::new()
        .prefix(".dagf-stage-")
        .tempdir_in(parent)
        .map_err(|e| io(e, "create a staging folder"))?;
    let mut report = Report::default();
    // Stage every changed file; an unchanged one keeps its time stamp.
    let staged = crate::par::map(files, |f| {
        let target = out.join(&f.name);
        if std::fs::read(&target).is_ok_and(|old| old == f.text.as_bytes()) {
            return Ok(None);
        }
        let staged = stage.path().join(&f.name);
        std::fs::write(&staged, &f.text).map(|()| Some((staged, target)))
    });
    let mut moves = Vec::new();
    for s in staged {
        match s.map_err(|e| io(e, "write a staged file"))? {
            Some(m) => moves.push(m),
            None => report.unchanged += 1,
        }
    }
    let names: Vec<&str> = files.iter().map(|f| f.name.as_str()).collect();
    let manifest = serde_json::json!({
        "generator": concat!("dagfc ", env!("CARGO_PKG_VERSION")),
        "files": names,
    });
    let staged_manifest = stage.path().join(MANIFEST);
    std::fs::write(&staged_manifest, format!("{:#}\n", manifest))
        .map_err(|e| io(e, "write the manifest"))?;
    // Everything is staged: from here on only renames within one folder.
    for (from, to) in moves {
        std::fs::rename(&from, &to)
            .map_err(|e| io(e, &format!("move {} into place", to.display())))?;
        report.written += 1;
    }
    let by_name: BTreeMap<&str, ()> = names.iter().map(|n| (*n, ())).collect();
    for stale in previous
        .iter()
        .filter(|p| !by_name.contains_key(p.as_str()))
    {
        if is_plain_name(stale) && std::fs::remove_file(out.join(stale)).is_ok() {
            report.removed += 1;
        }
    }
    std::fs::rename(&staged_manifest, out.join(MANIFEST))
        .map_err(|e| io(e, "move the manifest into place"))?;
    Ok(report)
}

/// A manifest entry we are willing to delete: a file name, never a path out of the folder.
fn is_plain_name(name: &str) -> bool {
    !name.is_empty()
        && !name.contains(['/', '\\'])
        && name != ".."
        && name != "."
        && name.ends_with(".py")
}
