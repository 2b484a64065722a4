//! The work folder of a build: the lock that serialises builds of one output folder,
//! the staging folders, and an `.airflowignore` that keeps Airflow out of them.
//!
//! It is `.dagf~build` inside the output folder (so that staged files are on the output
//! folder's file system even when that folder is a mount point), or, for a first build
//! into a folder that does not exist yet, `.dagf~build-NAME` beside it (so that the
//! whole staged folder becomes the output folder in one rename). A tenant's folder
//! cannot be called either: `~` is not allowed in one (E0315).
//!
//! Airflow's DAG processor walks the dags folder recursively, and the output folder is
//! often that folder or inside it: staged files are complete DAG files, which Airflow
//! would load a second time, under the same ids. The `.airflowignore` is written before
//! any staging folder and names them (`stage-*` works as a glob and as a regular
//! expression), so Airflow skips them while a build runs and after one was killed.
//! The lock is an advisory lock on a file (released by the system when the process
//! ends, however it ends), so a killed build never leaves the folder locked; its
//! staging folders are removed by the next build, which holds the lock and so knows
//! that nobody uses them.

use dagf_diag::{Code, Diagnostic};
use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The work folder's name inside the output folder.
pub const WORK: &str = ".dagf~build";
const LOCK: &str = "lock";
const IGNORE: &str = ".airflowignore";
const STAGE: &str = "stage-";
/// What the work folder's `.airflowignore` says.
const IGNORE_TEXT: &str =
    "# Written by dagfc: staged files of a build in progress, not DAGs to load.\nstage-*\n";

/// How long a build waits for another build of the same output folder, unless
/// `DAGF_LOCK_TIMEOUT` says otherwise (in seconds).
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(300);

/// The work folder of a first build into `out`, which does not exist yet.
pub fn beside(out: &Path) -> PathBuf {
    let name = out
        .file_name()
        .map_or_else(|| "out".to_string(), |n| n.to_string_lossy().into_owned());
    out.with_file_name(format!("{WORK}-{name}"))
}

/// How long to wait for the lock: `DAGF_LOCK_TIMEOUT` seconds, else five minutes.
pub fn timeout() -> Result<Duration, Box<Diagnostic>> {
    let Some(value) = std::env::var_os("DAGF_LOCK_TIMEOUT") else {
        return Ok(DEFAULT_TIMEOUT);
    };
    let text = value.to_string_lossy();
    text.trim()
        .parse::<u64>()
        .map(Duration::from_secs)
        .map_err(|_| {
            Box::new(
                Diagnostic::new(
                    Code::E0408,
                    format!("DAGF_LOCK_TIMEOUT is `{text}`, not a number of seconds"),
                )
                .with_help(
                    "set DAGF_LOCK_TIMEOUT to how many seconds a build may wait for another build of the same output folder (0: do not wait), or unset it (300)",
                ),
            )
        })
}

/// Why the lock could not be taken.
pub enum LockError {
    /// Another build held it for the whole wait.
    Busy,
    /// The work folder or its lock file could not be made.
    Io(io::Error),
}

/// A locked work folder. Dropping it removes the folder when nothing but the lock and
/// the ignore file is left in it, then releases the lock.
pub struct Work {
    dir: PathBuf,
    lock: File,
}

impl Work {
    /// Locks the work folder `dir` (made if need be), waiting up to `timeout` for a
    /// build that holds it; `waiting` is called once if this build has to wait.
    pub fn lock(dir: &Path, timeout: Duration, waiting: &dyn Fn()) -> Result<Work, LockError> {
        let deadline = Instant::now() + timeout;
        let mut told = false;
        loop {
            match try_lock(dir) {
                Ok(Some(lock)) => {
                    let work = Work {
                        dir: dir.to_path_buf(),
                        lock,
                    };
                    // Written before any staging folder can exist, and kept while one does.
                    std::fs::write(dir.join(IGNORE), IGNORE_TEXT).map_err(LockError::Io)?;
                    return Ok(work);
                }
                Ok(None) => {}
                Err(e) => return Err(LockError::Io(e)),
            }
            if Instant::now() >= deadline {
                return Err(LockError::Busy);
            }
            if !told {
                waiting();
                told = true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Removes the staging folders of builds that were killed: while this build holds
    /// the lock, no other build can be using one.
    pub fn remove_leftovers(&self) {
        remove_stages(&self.dir);
    }

    /// A new, empty staging folder, removed when dropped.
    pub fn stage(&self) -> io::Result<tempfile::TempDir> {
        tempfile::Builder::new().prefix(STAGE).tempdir_in(&self.dir)
    }

    /// Removes the work folder `dir` of a first build that was killed, when no build
    /// holds its lock.
    pub fn remove_abandoned(dir: &Path) {
        if !dir.is_dir() {
            return;
        }
        // Opened without creating it: a work folder with no lock file may belong to a
        // build that has just made it.
        let Ok(lock) = File::options().read(true).write(true).open(dir.join(LOCK)) else {
            return;
        };
        if lock.try_lock().is_ok() && same_file(&lock, &dir.join(LOCK)) {
            remove_stages(dir);
            drop(Work {
                dir: dir.to_path_buf(),
                lock,
            });
        }
    }
}

impl Drop for Work {
    fn drop(&mut self) {
        let only_ours = std::fs::read_dir(&self.dir).is_ok_and(|entries| {
            entries
                .filter_map(Result::ok)
                .all(|e| e.file_name() == LOCK || e.file_name() == IGNORE)
        });
        if only_ours {
            // The lock file goes while it is still locked: a build waiting on it sees
            // that it is gone once it gets it, and locks a new one.
            let _ = std::fs::remove_file(self.dir.join(IGNORE));
            let _ = std::fs::remove_file(self.dir.join(LOCK));
            let _ = std::fs::remove_dir(&self.dir);
        }
        let _ = self.lock.unlock();
    }
}

/// Opens and locks `dir/lock` if no one holds it: `None` when someone does.
fn try_lock(dir: &Path) -> io::Result<Option<File>> {
    std::fs::create_dir_all(dir)?;
    let path = dir.join(LOCK);
    let lock = match File::options()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
    {
        Ok(f) => f,
        // The build that held it has just removed the folder: try again.
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    match lock.try_lock() {
        // The file locked must still be the lock file: the build that held it removes it
        // on its way out, and a build that opened it before then would lock a file
        // nobody else can find.
        Ok(()) if same_file(&lock, &path) => Ok(Some(lock)),
        Ok(()) => Ok(None),
        Err(std::fs::TryLockError::WouldBlock) => Ok(None),
        Err(std::fs::TryLockError::Error(e)) => Err(e),
    }
}

/// Whether the open file `file` is the one at `path`.
#[cfg(unix)]
fn same_file(file: &File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), std::fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

/// Whether the open file `file` is the one at `path` (elsewhere, where an open file
/// cannot be removed: always).
#[cfg(not(unix))]
fn same_file(_: &File, path: &Path) -> bool {
    path.exists()
}

fn remove_stages(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.filter_map(Result::ok) {
        if e.file_name().to_string_lossy().starts_with(STAGE) {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}
