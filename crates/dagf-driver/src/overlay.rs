//! Loaders for tools: files held in memory, and edits laid over another loader (an
//! editor's unsaved buffers over the disk).

use dagf_sema::{Cached, HttpError, HttpLimits, Loader, ReadError, SqlError, SqlLimits, Table};
use std::collections::{BTreeMap, BTreeSet};

/// A loader over files held in memory, by `/`-separated path; its folders are the
/// ones those paths go through.
#[derive(Clone, Debug, Default)]
pub struct MemoryLoader {
    /// Each file's bytes, by its path.
    pub files: BTreeMap<String, Vec<u8>>,
}

impl MemoryLoader {
    /// An empty project.
    pub fn new() -> Self {
        Self::default()
    }

    /// The loader with one more file.
    pub fn with(mut self, path: &str, text: &str) -> Self {
        self.files
            .insert(path.to_string(), text.as_bytes().to_vec());
        self
    }
}

impl Loader for MemoryLoader {
    fn read(&self, path: &str) -> Result<Vec<u8>, ReadError> {
        if let Some(bytes) = self.files.get(path) {
            return Ok(bytes.clone());
        }
        match folder_entries(self.files.keys(), path).is_empty() {
            true => Err(ReadError::NotFound),
            false => Err(ReadError::NotAFile("a folder")),
        }
    }

    fn list(&self, dir: &str) -> Result<Vec<String>, String> {
        match folder_entries(self.files.keys(), dir) {
            e if e.is_empty() => Err("not found".to_string()),
            e => Ok(e.into_iter().map(|(name, _)| name).collect()),
        }
    }

    fn is_folder(&self, path: &str) -> bool {
        !folder_entries(self.files.keys(), path).is_empty()
    }

    fn subfolders(&self, dir: &str) -> Result<Vec<String>, String> {
        Ok(folder_entries(self.files.keys(), dir)
            .into_iter()
            .filter(|(_, folder)| *folder)
            .map(|(name, _)| name)
            .collect())
    }
}

/// The entries of the folder `dir` among `paths`: each name, and whether it is a folder.
fn folder_entries<'a>(
    paths: impl Iterator<Item = &'a String>,
    dir: &str,
) -> BTreeSet<(String, bool)> {
    let prefix = match dir {
        "" => String::new(),
        d => format!("{}/", d.trim_end_matches('/')),
    };
    paths
        .filter_map(|p| p.strip_prefix(&prefix))
        .filter(|rest| !rest.is_empty())
        .map(|rest| match rest.split_once('/') {
            Some((name, _)) => (name.to_string(), true),
            None => (rest.to_string(), false),
        })
        .collect()
}

/// Another loader with some files replaced or added: an edited file's text here wins
/// over what the base loader reads.
pub struct Overlay<'a> {
    base: &'a dyn Loader,
    edits: BTreeMap<String, String>,
}

impl<'a> Overlay<'a> {
    /// `base`, with no edits yet.
    pub fn new(base: &'a dyn Loader) -> Self {
        Overlay {
            base,
            edits: BTreeMap::new(),
        }
    }

    /// Sets the text of the file at `path` (a file the base may not have).
    pub fn edit(&mut self, path: impl Into<String>, text: impl Into<String>) -> &mut Self {
        self.edits.insert(path.into(), text.into());
        self
    }

    /// Drops the edit of `path`: the base's file shows again.
    pub fn revert(&mut self, path: &str) -> &mut Self {
        self.edits.remove(path);
        self
    }

    /// The edited files' paths.
    pub fn edited(&self) -> impl Iterator<Item = &str> {
        self.edits.keys().map(String::as_str)
    }
}

impl Loader for Overlay<'_> {
    fn read(&self, path: &str) -> Result<Vec<u8>, ReadError> {
        match self.edits.get(path) {
            Some(text) => Ok(text.as_bytes().to_vec()),
            None => self.base.read(path),
        }
    }

    fn list(&self, dir: &str) -> Result<Vec<String>, String> {
        let added = folder_entries(self.edits.keys(), dir);
        let mut names = match self.base.list(dir) {
            Ok(names) => names,
            Err(_) if !added.is_empty() => Vec::new(),
            Err(e) => return Err(e),
        };
        for (name, _) in added {
            if !names.contains(&name) {
                names.push(name);
            }
        }
        Ok(names)
    }

    fn is_folder(&self, path: &str) -> bool {
        self.base.is_folder(path) || !folder_entries(self.edits.keys(), path).is_empty()
    }

    fn subfolders(&self, dir: &str) -> Result<Vec<String>, String> {
        let added = folder_entries(self.edits.keys(), dir);
        let mut names = match self.base.subfolders(dir) {
            Ok(names) => names,
            Err(_) if !added.is_empty() => Vec::new(),
            Err(e) => return Err(e),
        };
        for (name, folder) in added {
            if folder && !names.contains(&name) {
                names.push(name);
            }
        }
        Ok(names)
    }

    fn sqlite(&self, db: &str, query: &str, limits: &SqlLimits) -> Result<Table, SqlError> {
        self.base.sqlite(db, query, limits)
    }

    fn http_get(&self, url: &str, limits: &HttpLimits) -> Result<Vec<u8>, HttpError> {
        self.base.http_get(url, limits)
    }

    fn cache_read(&self, url: &str) -> Option<Cached> {
        self.base.cache_read(url)
    }

    fn cache_write(&self, url: &str, body: &str) -> Result<(), String> {
        self.base.cache_write(url, body)
    }
}
