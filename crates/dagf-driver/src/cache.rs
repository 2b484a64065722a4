//! The trees of a session's files, kept between builds and found again by the hash of
//! their text: a file that did not change is not parsed again. And the results of its
//! modules (see [`dagf_sema::ModuleCache`]): a module nothing of which changed is not
//! evaluated again.

use dagf_diag::{Diagnostic, FileId};
use dagf_syntax::ast::Module;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

/// A file's text, its tree and its syntax diagnostics.
struct Tree {
    text: String,
    module: Module,
    diags: Vec<Diagnostic>,
}

/// The file's id is part of the key: every span in a tree names its file.
type Key = (FileId, String);

#[derive(Default)]
struct Trees {
    kept: HashMap<Key, Arc<Tree>>,
    /// The keys the build under way asked for: what the next build may ask for again.
    used: HashSet<Key>,
}

/// The parse cache of a session.
#[derive(Default)]
pub(crate) struct ParseCache {
    trees: Mutex<Trees>,
    parses: AtomicUsize,
    /// For one build only: nothing is kept (a kept tree is a second copy of each
    /// file's text and tree, for a build that will never ask again).
    once: bool,
}

impl ParseCache {
    /// A cache that keeps nothing, for a session of one build.
    pub(crate) fn once() -> Self {
        Self {
            once: true,
            ..Self::default()
        }
    }

    /// How many files were parsed (not found in the cache) since the session began.
    pub(crate) fn parses(&self) -> usize {
        self.parses.load(Ordering::Relaxed)
    }

    /// After a build: forgets the trees it did not ask for (files removed or changed).
    pub(crate) fn keep_used(&self) {
        let mut trees = self.trees.lock().unwrap_or_else(PoisonError::into_inner);
        let Trees { kept, used } = &mut *trees;
        kept.retain(|k, _| used.contains(k));
        used.clear();
    }
}

impl dagf_sema::Parse for ParseCache {
    fn parse(&self, text: &str, file: FileId) -> (Module, Vec<Diagnostic>) {
        if self.once {
            self.parses.fetch_add(1, Ordering::Relaxed);
            return dagf_syntax::parse(text, file);
        }
        let key = (file, dagf_sema::stable_hash(&[text]));
        let found = {
            let mut trees = self.trees.lock().unwrap_or_else(PoisonError::into_inner);
            trees.used.insert(key.clone());
            trees.kept.get(&key).cloned()
        };
        // The text is compared too: a hash alone could meet another text.
        if let Some(tree) = found.filter(|t| t.text == text) {
            return (tree.module.clone(), tree.diags.clone());
        }
        self.parses.fetch_add(1, Ordering::Relaxed);
        let (module, diags) = dagf_syntax::parse(text, file);
        let tree = Arc::new(Tree {
            text: text.to_string(),
            module: module.clone(),
            diags: diags.clone(),
        });
        self.trees
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .kept
            .insert(key, tree);
        (module, diags)
    }
}

/// Module results by key.
type Results = HashMap<String, Arc<dagf_sema::ModuleResult>>;

/// The module results of a session, in memory, over the caller's store (on disk, say):
/// a new result goes to both.
#[derive(Default)]
pub(crate) struct Modules {
    kept: Mutex<(Results, HashSet<String>)>,
    below: Mutex<Option<Arc<dyn dagf_sema::ModuleCache>>>,
    evaluated: AtomicUsize,
    /// For one build only: new results go to the store alone (kept in memory too, every
    /// file's text would be held twice until the build ends).
    once: bool,
}

impl Modules {
    /// Results for a session of one build.
    pub(crate) fn once() -> Self {
        Self {
            once: true,
            ..Self::default()
        }
    }

    /// Puts `store` under the memory for the build about to start.
    pub(crate) fn over(&self, store: Option<Arc<dyn dagf_sema::ModuleCache>>) {
        *self.below.lock().unwrap_or_else(PoisonError::into_inner) = store;
    }

    /// How many modules were evaluated (found in no cache) since the session began.
    pub(crate) fn evaluated(&self) -> usize {
        self.evaluated.load(Ordering::Relaxed)
    }

    /// After a build: forgets the results it did not ask for.
    pub(crate) fn keep_used(&self) {
        let mut kept = self.kept.lock().unwrap_or_else(PoisonError::into_inner);
        let (results, used) = &mut *kept;
        results.retain(|k, _| used.contains(k));
        used.clear();
    }

    fn below(&self) -> Option<Arc<dyn dagf_sema::ModuleCache>> {
        self.below
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl dagf_sema::ModuleCache for Modules {
    fn get(&self, key: &str) -> Option<Arc<dagf_sema::ModuleResult>> {
        let found = {
            let mut kept = self.kept.lock().unwrap_or_else(PoisonError::into_inner);
            kept.1.insert(key.to_string());
            kept.0.get(key).cloned()
        };
        if found.is_some() {
            return found;
        }
        // Not kept in memory too: the build takes it over rather than copy it, and a
        // later build of the session finds it where it was found now.
        self.below()?.get(key)
    }

    fn put(&self, key: &str, result: Arc<dagf_sema::ModuleResult>) {
        self.evaluated.fetch_add(1, Ordering::Relaxed);
        if let Some(below) = self.below() {
            below.put(key, result.clone());
        }
        if self.once {
            return;
        }
        let mut kept = self.kept.lock().unwrap_or_else(PoisonError::into_inner);
        kept.1.insert(key.to_string());
        kept.0.insert(key.to_string(), result);
    }
}
