//! The edge of the compiler that touches the world: the disk (source and config files,
//! folder listings), SQLite databases and HTTP servers, behind [`dagf_sema::Loader`].
//! The command line and the tests that check a project in process share it.

mod data;
mod modules;

pub use data::CACHE_DIR;
pub use modules::DiskModules;

use dagf_sema::{HttpError, HttpLimits, MAX_FILE_BYTES, MAX_SOURCE_BYTES, ReadError, SqlLimits};
use std::io::Read;
use std::path::Path;

/// Reads a project's files, databases and URLs; paths are relative to `root`, the
/// project folder, where the HTTP cache lives too (`.dagf-cache/`).
pub struct DiskLoader<'a> {
    /// The project folder, where `dagf.toml` is.
    pub root: &'a Path,
}

impl dagf_sema::Loader for DiskLoader<'_> {
    fn read(&self, path: &str) -> Result<Vec<u8>, ReadError> {
        let limit = if path.ends_with(".dagf") {
            MAX_SOURCE_BYTES
        } else {
            MAX_FILE_BYTES
        };
        read_file(&self.root.join(path), limit)
    }

    fn list(&self, dir: &str) -> Result<Vec<String>, String> {
        let entries = std::fs::read_dir(self.root.join(dir)).map_err(|e| e.kind().to_string())?;
        Ok(entries
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect())
    }

    fn is_folder(&self, path: &str) -> bool {
        self.root.join(path).is_dir()
    }

    fn subfolders(&self, dir: &str) -> Result<Vec<String>, String> {
        let entries = std::fs::read_dir(self.root.join(dir)).map_err(|e| e.to_string())?;
        let mut out = Vec::new();
        for e in entries {
            let e = e.map_err(|e| e.to_string())?;
            if e.file_type().map_err(|e| e.to_string())?.is_dir() {
                out.push(e.file_name().to_string_lossy().into_owned());
            }
        }
        Ok(out)
    }

    fn sqlite(
        &self,
        db: &str,
        query: &str,
        limits: &SqlLimits,
    ) -> Result<dagf_sema::Table, dagf_sema::SqlError> {
        data::query(&self.root.join(db), query, limits)
    }

    fn http_get(&self, url: &str, limits: &HttpLimits) -> Result<Vec<u8>, HttpError> {
        data::get(url, limits)
    }

    fn cache_read(&self, url: &str) -> Option<dagf_sema::Cached> {
        data::cache_read(self.root, url)
    }

    fn cache_write(&self, url: &str, body: &str) -> Result<(), String> {
        data::cache_write(self.root, url, body)
    }
}

/// What is at `path`, when it is not a regular file: reading a named pipe blocks until
/// someone writes to it, and a device such as `/dev/zero` never ends.
pub fn not_a_file(meta: &std::fs::Metadata) -> Option<&'static str> {
    let t = meta.file_type();
    if t.is_file() {
        return None;
    }
    if t.is_dir() {
        return Some("a folder");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return Some("a named pipe");
        }
        if t.is_socket() {
            return Some("a socket");
        }
        if t.is_char_device() || t.is_block_device() {
            return Some("a device");
        }
    }
    Some("not a regular file")
}

/// The bytes of the regular file at `path`, at most `limit` of them. Anything else is
/// refused before it is opened (opening a named pipe would already block).
pub fn read_file(path: &Path, limit: u64) -> Result<Vec<u8>, ReadError> {
    let io = |e: std::io::Error| match e.kind() {
        std::io::ErrorKind::NotFound => ReadError::NotFound,
        kind => ReadError::Other(kind.to_string()),
    };
    let meta = std::fs::metadata(path).map_err(io)?;
    if let Some(what) = not_a_file(&meta) {
        return Err(ReadError::NotAFile(what));
    }
    if meta.len() > limit {
        return Err(ReadError::TooLarge { limit });
    }
    let file = std::fs::File::open(path).map_err(io)?;
    // The file may have grown since it was looked at: read one byte past the limit to
    // tell.
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(limit + 1).read_to_end(&mut bytes).map_err(io)?;
    if bytes.len() as u64 > limit {
        return Err(ReadError::TooLarge { limit });
    }
    Ok(bytes)
}
