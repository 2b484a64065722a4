//! The edge of the compiler that touches the world: the disk (source and config files,
//! folder listings), SQLite databases and HTTP servers, behind [`dagf_sema::Loader`].
//! The command line and the tests that check a project in process share it.

mod data;

pub use data::CACHE_DIR;

use std::path::Path;

/// Reads a project's files, databases and URLs; paths are relative to `root`, the
/// project folder, where the HTTP cache lives too (`.dagf-cache/`).
pub struct DiskLoader<'a> {
    pub root: &'a Path,
}

impl dagf_sema::Loader for DiskLoader<'_> {
    fn read(&self, path: &str) -> Result<String, String> {
        let bytes = std::fs::read(self.root.join(path)).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => "there is no such file".to_string(),
            kind => kind.to_string(),
        })?;
        String::from_utf8(bytes).map_err(|_| "the file is not UTF-8 text".to_string())
    }

    fn list(&self, dir: &str) -> Result<Vec<String>, String> {
        let entries = std::fs::read_dir(self.root.join(dir)).map_err(|e| e.kind().to_string())?;
        Ok(entries
            .filter_map(|e| e.ok())
            .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect())
    }

    fn sqlite(&self, db: &str, query: &str) -> Result<dagf_sema::Table, dagf_sema::SqlError> {
        data::query(&self.root.join(db), query)
    }

    fn http_get(&self, url: &str, timeout: std::time::Duration) -> Result<String, String> {
        data::get(url, timeout)
    }

    fn cache_read(&self, url: &str) -> Option<dagf_sema::Cached> {
        data::cache_read(self.root, url)
    }

    fn cache_write(&self, url: &str, body: &str) -> Result<(), String> {
        data::cache_write(self.root, url, body)
    }
}
