//! What the integration tests share.

use dagf_sema::Loader;
use std::collections::HashMap;

/// Source files held in memory, by path.
pub struct Memory(pub HashMap<String, String>);

impl Loader for Memory {
    fn read(&self, path: &str) -> Result<String, String> {
        self.0
            .get(path)
            .cloned()
            .ok_or_else(|| "not found".to_string())
    }
}
