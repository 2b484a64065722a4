//! The project as it was at a git revision, for `dagfc diff --rev`: git's archive of
//! the project folder at that commit, unpacked into a temporary folder.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};

/// Why the files of a revision could not be had, in words for the error message.
pub type Failure = String;

/// The project folder `root` as it was at `rev`, in a temporary folder that is deleted
/// when the returned value is dropped.
pub fn checkout(root: &Path, rev: &str) -> Result<tempfile::TempDir, Failure> {
    if rev.starts_with('-') {
        return Err(format!("`{rev}` is not a revision"));
    }
    let git = |args: &[&str]| {
        Command::new("git")
            .arg("-C")
            .arg(root)
            .args(args)
            .stdin(Stdio::null())
            .output()
    };
    let prefix = match git(&["rev-parse", "--show-prefix"]) {
        Err(e) => return Err(format!("git could not be run ({e}); is it installed?")),
        Ok(o) if !o.status.success() => {
            return Err("the project is not in a git repository".to_string());
        }
        Ok(o) => String::from_utf8_lossy(&o.stdout).trim().to_string(),
    };
    // `git archive` run inside a subfolder keeps only that subfolder's part of the
    // tree it is given: run it at the top of the repository.
    let top = match git(&["rev-parse", "--show-toplevel"]) {
        Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout).trim().to_string(),
        _ => return Err("the project is not in a git repository".to_string()),
    };
    let commit = format!("{rev}^{{commit}}");
    match git(&["rev-parse", "--verify", "--quiet", &commit]) {
        Ok(o) if o.status.success() => {}
        _ => return Err(format!("`{rev}` names no commit of this repository")),
    }
    let tree = format!("{rev}:{}", prefix.trim_end_matches('/'));
    let dir = tempfile::tempdir().map_err(|e| format!("no temporary folder: {e}"))?;
    let mut archive = Command::new("git")
        .arg("-C")
        .arg(&top)
        .args(["archive", "--format=tar", &tree])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("git could not be run ({e})"))?;
    let Some(tar_in) = archive.stdout.take() else {
        return Err("git gave no archive".to_string());
    };
    let unpack = Command::new("tar")
        .arg("-x")
        .arg("-C")
        .arg(dir.path())
        .stdin(Stdio::from(tar_in))
        .stderr(Stdio::piped())
        .output();
    let mut git_err = String::new();
    if let Some(mut e) = archive.stderr.take() {
        let _ = e.read_to_string(&mut git_err);
    }
    let archived = archive.wait().map(|s| s.success()).unwrap_or(false);
    if !archived {
        let said = git_err.lines().next().unwrap_or("").trim().to_string();
        return Err(format!(
            "the project folder `{}` is not in `{rev}`{}",
            if prefix.is_empty() {
                "."
            } else {
                prefix.trim_end_matches('/')
            },
            if said.is_empty() {
                String::new()
            } else {
                format!(" (git: {said})")
            }
        ));
    }
    match unpack {
        Ok(o) if o.status.success() => {
            // Answers of HTTP sources kept by earlier builds are not in git: the old
            // side may use them as the working tree does.
            copy_folder(&root.join(".dagf-cache"), &dir.path().join(".dagf-cache"));
            Ok(dir)
        }
        Ok(o) => Err(format!(
            "tar could not unpack it: {}",
            String::from_utf8_lossy(&o.stderr).trim()
        )),
        Err(e) => Err(format!("tar could not be run ({e}); is it installed?")),
    }
}

/// Copies the regular files of a folder tree; what cannot be copied is left out (the
/// old side then fetches what it needs).
fn copy_folder(from: &Path, to: &Path) {
    let Ok(entries) = std::fs::read_dir(from) else {
        return;
    };
    if std::fs::create_dir_all(to).is_err() {
        return;
    }
    for e in entries.flatten() {
        let Ok(kind) = e.file_type() else { continue };
        let target = to.join(e.file_name());
        if kind.is_dir() {
            copy_folder(&e.path(), &target);
        } else if kind.is_file() {
            let _ = std::fs::copy(e.path(), &target);
        }
    }
}
