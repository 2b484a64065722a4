//! Writing the output folder safely: everything is staged in a temporary folder and
//! moved into place only when the whole build succeeded; a manifest lists what the
//! build wrote, so stale files go and files the build did not write are never touched.
//!
//! Dags placed in a tenant go into that tenant's subfolder, and each folder the build
//! writes has a manifest of its own: removing a tenant removes exactly its files. The
//! top folder's manifest also lists the subfolders, so one no longer built is found.

use dagf_diag::{Code, Diagnostic};
use dagf_ir::Built;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

pub const MANIFEST: &str = ".dagf-manifest.json";

/// What a write did, for the summary line.
#[derive(Debug, Default)]
pub struct Report {
    pub written: usize,
    pub unchanged: usize,
    pub removed: usize,
}

/// What a folder's manifest says: its files, and (in the top folder) the subfolders.
#[derive(Default)]
struct Manifest {
    files: Vec<String>,
    folders: Vec<String>,
}

fn read_manifest(dir: &Path) -> Manifest {
    let Ok(text) = std::fs::read_to_string(dir.join(MANIFEST)) else {
        return Manifest::default();
    };
    let v: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
    let list = |key: &str| {
        v.get(key)
            .cloned()
            .and_then(|f| serde_json::from_value::<Vec<String>>(f).ok())
            .unwrap_or_default()
    };
    Manifest {
        files: list("files"),
        folders: list("folders")
            .into_iter()
            .filter(|f| is_safe_folder(f))
            .collect(),
    }
}

fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_string()
    } else {
        format!("{dir}/{name}")
    }
}

/// Checks, then writes. On any error nothing in `out` has changed.
/// `shown` is the output folder as the user should read it (relative to the project).
/// With a `stamp`, the top manifest also records it and the state of every file
/// written, so that the next build can tell nothing changed.
pub fn write(
    out: &Path,
    shown: &str,
    files: &[Built],
    stamp: Option<&Stamp>,
) -> Result<Report, Vec<Diagnostic>> {
    // A first build into a folder that does not exist yet has nothing to compare with
    // or to clean up, and moves the whole staged folder into place in one rename.
    let fresh = !out.exists();
    let top = if fresh {
        Manifest::default()
    } else {
        read_manifest(out)
    };
    let mut by_dir: BTreeMap<&str, Vec<&Built>> = BTreeMap::new();
    by_dir.entry("").or_default();
    for f in files {
        by_dir.entry(f.folder.as_str()).or_default().push(f);
    }
    // Every folder written now or last time, with what its manifest listed.
    let folders: BTreeSet<String> = by_dir
        .keys()
        .map(|d| d.to_string())
        .chain(top.folders.iter().cloned())
        .collect();
    let previous: BTreeMap<String, Vec<String>> = if fresh {
        BTreeMap::new()
    } else {
        folders
            .iter()
            .map(|d| {
                let m = if d.is_empty() {
                    top.files.clone()
                } else {
                    read_manifest(&out.join(d)).files
                };
                (d.clone(), m)
            })
            .collect()
    };

    // A file in the way that the last build did not write (none in a fresh folder).
    let mut errors = Vec::new();
    for f in files {
        let listed = previous.get(&f.folder).is_some_and(|p| p.contains(&f.file));
        if !fresh && !listed && out.join(&f.folder).join(&f.file).exists() {
            errors.push(
                Diagnostic::at(
                    Code::E0401,
                    f.span,
                    format!(
                        "`{shown}/{}` exists and was not written by dagfc",
                        join(&f.folder, &f.file)
                    ),
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
    // Staged beside the output folder (same file system, so moves are renames), never
    // inside it, where Airflow could pick up a half-finished file.
    let parent = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(|e| io(e, &format!("create {}", parent.display())))?;
    if !fresh {
        std::fs::create_dir_all(out).map_err(|e| io(e, &format!("create {}", out.display())))?;
    }
    let stage = tempfile::Builder::new()
        .prefix(".dagf-stage-")
        .tempdir_in(parent)
        .map_err(|e| io(e, "create a staging folder"))?;
    for dir in by_dir.keys().filter(|d| !d.is_empty()) {
        std::fs::create_dir_all(stage.path().join(dir))
            .map_err(|e| io(e, "create a staging folder"))?;
    }
    let mut report = Report::default();
    // Stage every changed file; an unchanged one keeps its time stamp. Each file's
    // state (size and time) is taken as it is written, for the stamp.
    let staged = crate::par::map(files, |f| {
        let target = out.join(&f.folder).join(&f.file);
        if !fresh && std::fs::read(&target).is_ok_and(|old| old == f.text.as_bytes()) {
            return Ok(Staged::Unchanged(file_state(&target)));
        }
        let staged = stage.path().join(&f.folder).join(&f.file);
        let state = write_file(&staged, f.text.as_bytes())?;
        Ok(Staged::Written {
            staged,
            target,
            state,
        })
    });
    let mut moves: Vec<(PathBuf, PathBuf)> = Vec::new();
    let mut states: Vec<Option<FileState>> = Vec::with_capacity(files.len());
    for s in staged {
        match s.map_err(|e| io(e, "write a staged file"))? {
            Staged::Written {
                staged,
                target,
                state,
            } => {
                moves.push((staged, target));
                states.push(state);
            }
            Staged::Unchanged(state) => {
                report.unchanged += 1;
                states.push(state);
            }
        }
    }
    // Each subfolder's manifest, staged on every core like the files.
    let subfolders: Vec<(&str, &Vec<&Built>)> = by_dir
        .iter()
        .filter(|(d, _)| !d.is_empty())
        .map(|(d, p)| (*d, p))
        .collect();
    let mut manifests = Vec::new();
    for staged in crate::par::map(&subfolders, |(dir, in_dir)| {
        let staged = stage.path().join(dir).join(MANIFEST);
        std::fs::write(&staged, format!("{:#}\n", manifest(in_dir)))
            .map(|()| (staged, out.join(dir).join(MANIFEST)))
    }) {
        manifests.push(staged.map_err(|e| io(e, "write a manifest"))?);
    }
    // The top manifest is written last, when every file is in place.
    let top_manifest = || {
        let folder_names: Vec<&str> = subfolders.iter().map(|(d, _)| *d).collect();
        let outputs: Vec<(String, FileState)> = files
            .iter()
            .zip(&states)
            .filter_map(|(f, s)| Some((join(&f.folder, &f.file), (*s)?)))
            .collect();
        let mut top = manifest(by_dir.get("").map_or(&[][..], Vec::as_slice));
        top["folders"] = serde_json::json!(folder_names);
        if let Some(stamp) = stamp {
            top["stamp"] = stamp.to_json(&outputs);
        }
        let staged = stage.path().join(MANIFEST);
        std::fs::write(&staged, format!("{top:#}\n")).map(|()| staged)
    };
    // Everything is staged: from here on only folder creation, renames and removals.
    if fresh {
        // Renaming the folder keeps each file's time.
        top_manifest().map_err(|e| io(e, "write the manifest"))?;
        let staged = stage.keep();
        std::fs::rename(&staged, out).map_err(|e| {
            let _ = std::fs::remove_dir_all(&staged);
            io(e, &format!("move the staged files to {}", out.display()))
        })?;
        report.written = moves.len();
        return Ok(report);
    }
    for dir in by_dir.keys().filter(|d| !d.is_empty()) {
        std::fs::create_dir_all(out.join(dir))
            .map_err(|e| io(e, &format!("create {}", out.join(dir).display())))?;
    }
    for (from, to) in moves {
        std::fs::rename(&from, &to)
            .map_err(|e| io(e, &format!("move {} into place", to.display())))?;
        report.written += 1;
    }
    for (dir, listed) in &previous {
        let now: BTreeSet<&str> = by_dir
            .get(dir.as_str())
            .map(|p| p.iter().map(|f| f.file.as_str()).collect())
            .unwrap_or_default();
        for stale in listed.iter().filter(|p| !now.contains(p.as_str())) {
            if is_plain_name(stale) && std::fs::remove_file(out.join(dir).join(stale)).is_ok() {
                report.removed += 1;
            }
        }
        // A folder no longer built: its manifest goes, and the folders it leaves
        // empty (nothing else was in them).
        if !by_dir.contains_key(dir.as_str()) {
            let _ = std::fs::remove_file(out.join(dir).join(MANIFEST));
            let mut d = PathBuf::from(dir);
            while !d.as_os_str().is_empty() && std::fs::remove_dir(out.join(&d)).is_ok() {
                d.pop();
            }
        }
    }
    let top = top_manifest().map_err(|e| io(e, "write the manifest"))?;
    manifests.push((top, out.join(MANIFEST)));
    for (from, to) in manifests {
        std::fs::rename(&from, &to).map_err(|e| io(e, "move a manifest into place"))?;
    }
    Ok(report)
}

/// What staging did with one file.
enum Staged {
    /// Written to `staged`, to be moved to `target`.
    Written {
        staged: PathBuf,
        target: PathBuf,
        state: Option<FileState>,
    },
    /// Already in place with this text.
    Unchanged(Option<FileState>),
}

/// Writes a file and returns its state, read from the open file.
fn write_file(path: &Path, bytes: &[u8]) -> std::io::Result<Option<FileState>> {
    use std::io::Write;
    let mut file = std::fs::File::create(path)?;
    file.write_all(bytes)?;
    Ok(state_of(&file.metadata()?))
}

/// A folder's manifest: the files it holds.
fn manifest(files: &[&Built]) -> serde_json::Value {
    let names: Vec<&str> = files.iter().map(|f| f.file.as_str()).collect();
    serde_json::json!({
        "generator": concat!("dagfc ", env!("CARGO_PKG_VERSION")),
        "files": names,
    })
}

/// A manifest entry we are willing to delete: a file name, never a path out of the folder.
fn is_plain_name(name: &str) -> bool {
    !name.is_empty()
        && !name.contains(['/', '\\'])
        && name != ".."
        && name != "."
        && name.ends_with(".py")
}

/// A subfolder a manifest may name: relative, made of plain names, never `..`.
fn is_safe_folder(dir: &str) -> bool {
    !dir.is_empty()
        && dir.split('/').all(|p| {
            !p.is_empty()
                && p != "."
                && p != ".."
                && p.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        })
}

/// What a build was made from, kept in the top manifest: when nothing in it changed
/// and every file it wrote is as it was left, the next build has nothing to do.
pub struct Stamp {
    /// dagfc's version, the build options and `dagf.toml`, hashed.
    pub key: String,
    /// Every source file the build read, with the hash of its text.
    pub inputs: Vec<(String, String)>,
    /// Warnings the build reported (a build with nothing to do mentions them).
    pub warnings: usize,
}

impl Stamp {
    /// The stamp as the manifest keeps it, with the size and time of every file.
    fn to_json(&self, outputs: &[(String, FileState)]) -> serde_json::Value {
        let outputs: Vec<serde_json::Value> = outputs
            .iter()
            .map(|(path, (len, mtime))| serde_json::json!([path, len, mtime.to_string()]))
            .collect();
        serde_json::json!({
            "key": self.key,
            "inputs": self.inputs,
            "warnings": self.warnings,
            "outputs": outputs,
        })
    }
}

/// A file's size and modification time (nanoseconds), to see whether anyone changed
/// it since.
type FileState = (u64, u128);

fn file_state(path: &Path) -> Option<FileState> {
    state_of(&std::fs::metadata(path).ok()?)
}

fn state_of(meta: &std::fs::Metadata) -> Option<FileState> {
    let mtime = meta
        .modified()
        .ok()?
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?
        .as_nanos();
    Some((meta.len(), mtime))
}

/// When the last build's stamp still holds (same key, same source texts, every output
/// file untouched): how many files it wrote, and how many warnings it reported.
pub fn up_to_date(
    out: &Path,
    key: &str,
    read: &dyn Fn(&str) -> Option<String>,
) -> Option<(usize, usize)> {
    let text = std::fs::read_to_string(out.join(MANIFEST)).ok()?;
    let manifest: serde_json::Value = serde_json::from_str(&text).ok()?;
    let stamp = manifest.get("stamp")?;
    if stamp.get("key")?.as_str()? != key {
        return None;
    }
    for input in stamp.get("inputs")?.as_array()? {
        let (path, hash) = (input.get(0)?.as_str()?, input.get(1)?.as_str()?);
        if dagf_sema::stable_hash(&[&read(path)?]) != hash {
            return None;
        }
    }
    let outputs = stamp.get("outputs")?.as_array()?;
    for o in outputs {
        let (rel, len, mtime) = (
            o.get(0)?.as_str()?,
            o.get(1)?.as_u64()?,
            o.get(2)?.as_str()?,
        );
        let (l, m) = file_state(&out.join(rel))?;
        if l != len || m.to_string() != mtime {
            return None;
        }
    }
    let warnings = stamp.get("warnings")?.as_u64()? as usize;
    Some((outputs.len(), warnings))
}
