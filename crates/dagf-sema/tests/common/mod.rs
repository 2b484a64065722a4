//! What the integration tests share.

use dagf_sema::{Loader, ReadError};
use std::collections::HashMap;

/// Source files held in memory, by path.
pub struct Memory(pub HashMap<String, String>);

impl Loader for Memory {
    fn read(&self, path: &str) -> Result<Vec<u8>, ReadError> {
        self.0
            .get(path)
            .map(|t| t.clone().into_bytes())
            .ok_or(ReadError::NotFound)
    }
}
