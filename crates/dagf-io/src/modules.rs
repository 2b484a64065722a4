//! The module cache on disk (`.dagf-cache/modules/<flavour>/`): one file per module
//! result, named by its key. A file is read as a result only when it says it is one,
//! for this key, and arrived whole (see [`dagf_sema::ModuleResult::from_bytes`]);
//! anything else is as if it were not there.

use dagf_sema::{ModuleCache, ModuleResult};
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

/// The largest cache file read (a module's generated files are in it).
const MAX_BYTES: u64 = 256 << 20;

/// Module results in a folder of the project's cache.
pub struct DiskModules {
    dir: PathBuf,
    /// The keys this build asked for or stored: the others are removed by [`prune`].
    ///
    /// [`prune`]: DiskModules::prune
    used: Mutex<HashSet<String>>,
}

impl DiskModules {
    /// The results of builds of one flavour (`files`, `check`) of the project at `root`.
    pub fn new(root: &Path, flavour: &str) -> DiskModules {
        DiskModules {
            dir: root.join(crate::CACHE_DIR).join("modules").join(flavour),
            used: Mutex::new(HashSet::new()),
        }
    }

    /// Where a key's result is kept; a key that is not a plain hash has no file.
    fn file(&self, key: &str) -> Option<PathBuf> {
        let plain =
            !key.is_empty() && key.len() <= 64 && key.bytes().all(|b| b.is_ascii_hexdigit());
        plain.then(|| self.dir.join(key))
    }

    /// Removes the results this build neither used nor made (edited modules' old
    /// results), so the folder holds one build's worth. Best effort: a file that cannot
    /// be removed stays, and is never read for another key.
    pub fn prune(&self) {
        let used = self.used.lock().unwrap_or_else(PoisonError::into_inner);
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return;
        };
        for e in entries.flatten() {
            let name = e.file_name();
            let name = name.to_string_lossy();
            if !used.contains(name.as_ref()) {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
}

impl ModuleCache for DiskModules {
    fn get(&self, key: &str) -> Option<Arc<ModuleResult>> {
        self.used
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(key.to_string());
        let bytes = crate::read_file(&self.file(key)?, MAX_BYTES).ok()?;
        ModuleResult::from_bytes(&bytes, key).map(Arc::new)
    }

    fn put(&self, key: &str, result: Arc<ModuleResult>) {
        self.used
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(key.to_string());
        let Some(file) = self.file(key) else {
            return;
        };
        // Written beside, then renamed: a reader sees a whole file or none. A cache
        // that cannot be written makes the next build slower, never wrong.
        let tmp = self.dir.join(format!("{key}.tmp{}", std::process::id()));
        let written = std::fs::create_dir_all(&self.dir)
            .and_then(|()| std::fs::write(&tmp, result.to_bytes(key)))
            .and_then(|()| std::fs::rename(&tmp, &file));
        if written.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
    }
}
