//! The module cache: what evaluating one module's dags left (their files or a note of
//! each, their facts, diagnostics and the declarations they used), found again by a key
//! made of everything that evaluation could read. A module whose key is known is not
//! evaluated; the checks across the project still run over every module's facts.

use super::{IdRecord, Share};
use crate::ids::{CallbackId, FactoryId, Id, KindId, ModuleId, TemplateId};
use crate::modules::Program;
use crate::scopes::Facts;
use dagf_diag::{Diagnostic, Diagnostics, Sources, Span};
use dagf_ir::Built;
use std::collections::HashMap;
use std::sync::Arc;

/// Where a build keeps module results between builds (memory, disk, both). Called
/// from several threads.
pub trait ModuleCache: Sync + Send {
    /// The result stored under `key`, if any.
    fn get(&self, key: &str) -> Option<Arc<ModuleResult>>;
    /// Stores `result` under `key`.
    fn put(&self, key: &str, result: Arc<ModuleResult>);
}

/// A build's use of a [`ModuleCache`]: the store and what every key starts from.
#[derive(Clone)]
pub struct Caching {
    /// Where results are found and kept.
    pub store: Arc<dyn ModuleCache>,
    /// Everything the whole build depends on besides the files: the compiler's
    /// version, the options that change results, `dagf.toml`; the caller's hash.
    pub key: String,
    /// Whether results keep their dags' files' text (a build that writes files) or
    /// only a note of each dag (a check).
    pub texts: bool,
}

impl std::fmt::Debug for Caching {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Caching")
            .field("key", &self.key)
            .field("texts", &self.texts)
            .finish()
    }
}

/// What evaluating one module's dags left: all a build needs of them once made.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct ModuleResult {
    built: Vec<Built>,
    facts: Vec<Facts>,
    diags: Vec<Diagnostic>,
    made_as: Vec<(Diagnostic, Diagnostic)>,
    ids: Vec<(String, IdRecord)>,
    dag_ids: Vec<String>,
    ids_unsure: bool,
    used_factories: Vec<FactoryId>,
    extended: Vec<FactoryId>,
    parent_missing: Vec<(FactoryId, Vec<Diagnostic>)>,
    used_templates: Vec<TemplateId>,
    used_callbacks: Vec<CallbackId>,
    placed_kinds: Vec<KindId>,
}

/// The length of each file's text.
fn lens(built: &[Built]) -> Vec<usize> {
    built.iter().map(|b| b.text.len()).collect()
}

/// A set's members in order, so that a stored result does not depend on hash order.
fn sorted<T: Ord + Clone>(set: impl IntoIterator<Item = T>) -> Vec<T> {
    let mut v: Vec<T> = set.into_iter().collect();
    v.sort_unstable();
    v
}

/// The first line of a stored result: what it is, and the format's version.
const MAGIC: &str = "dagf module cache 2";

/// A checksum of a stored result, eight bytes at a time (a cache file holds a
/// module's generated files: megabytes); the same on every machine.
fn checksum(parts: &[&[u8]]) -> String {
    let mut h: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut mix = |word: u64| {
        h = (h ^ word)
            .wrapping_mul(0x0000_0100_0000_01b3)
            .rotate_left(29);
    };
    for part in parts {
        let mut chunks = part.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            mix(u64::from_le_bytes(w));
        }
        let mut w = [0u8; 8];
        let rest = chunks.remainder();
        w[..rest.len()].copy_from_slice(rest);
        mix(u64::from_le_bytes(w) ^ ((part.len() as u64) << 3));
    }
    format!("{h:016x}")
}

impl ModuleResult {
    /// The result as stored: a line with the format, the key and a checksum; the
    /// result (JSON, one line) with the files' text left out; then the texts, one
    /// after another (the JSON says how long each is).
    pub fn to_bytes(&self, key: &str) -> Vec<u8> {
        let mut meta = self.clone();
        let mut texts = String::new();
        for b in &mut meta.built {
            texts.push_str(&std::mem::take(&mut b.text));
        }
        let json = serde_json::to_string(&(meta, lens(&self.built))).unwrap_or_default();
        Self::seal(key, &json, &texts)
    }

    /// The stored form of a result's JSON line and texts for `key`: what
    /// [`ModuleResult::to_bytes`] writes (tests make damaged results with it).
    pub fn seal(key: &str, json: &str, texts: &str) -> Vec<u8> {
        let sum = checksum(&[key.as_bytes(), json.as_bytes(), texts.as_bytes()]);
        format!("{MAGIC} {key} {sum}\n{json}\n{texts}").into_bytes()
    }

    /// A stored result, if `bytes` is one made for `key` and arrived whole: anything
    /// else (another key, another version, a damaged file) is no result.
    pub fn from_bytes(bytes: &[u8], key: &str) -> Option<ModuleResult> {
        let text = std::str::from_utf8(bytes).ok()?;
        let (head, rest) = text.split_once('\n')?;
        let (json, texts) = rest.split_once('\n')?;
        let found = head.strip_prefix(MAGIC)?.strip_prefix(' ')?;
        let (found_key, sum) = found.split_once(' ')?;
        if found_key != key || sum != checksum(&[key.as_bytes(), json.as_bytes(), texts.as_bytes()])
        {
            return None;
        }
        let (mut result, lens): (ModuleResult, Vec<usize>) = serde_json::from_str(json).ok()?;
        if lens.len() != result.built.len() || lens.iter().sum::<usize>() != texts.len() {
            return None;
        }
        let mut at = 0;
        for (b, len) in result.built.iter_mut().zip(lens) {
            b.text = texts.get(at..at + len)?.to_string();
            at += len;
        }
        Some(result)
    }

    /// What one module's evaluation left, as kept: the dags' files, or (for a check) a
    /// note of each without text, whether it stayed in the IR or went by.
    fn of(share: &Share, texts: bool) -> ModuleResult {
        let mut built = share.project.built.clone();
        if !texts {
            for b in &mut built {
                b.text.clear();
            }
        }
        built.extend(share.project.dags.iter().map(|d| Built {
            dag_id: d.dag_id.clone(),
            span: d.span,
            folder: d.folder.clone(),
            file: String::new(),
            text: String::new(),
            tasks: d.graph.node_count(),
            tenant: d.scope.as_ref().map(|s| s.tenant.clone()),
        }));
        ModuleResult {
            built,
            facts: share.facts.clone(),
            diags: share.diags.iter().cloned().collect(),
            made_as: share
                .made_as
                .iter()
                .map(|(a, b)| (a.clone(), b.clone()))
                .collect(),
            ids: share.ids.clone(),
            dag_ids: sorted(share.dag_ids.iter().cloned()),
            ids_unsure: share.ids_unsure,
            used_factories: sorted(share.used_factories.iter().copied()),
            extended: sorted(share.extended.iter().copied()),
            parent_missing: share
                .parent_missing
                .iter()
                .map(|(f, d)| (*f, d.clone()))
                .collect(),
            used_templates: sorted(share.used_templates.iter().copied()),
            used_callbacks: sorted(share.used_callbacks.iter().copied()),
            placed_kinds: sorted(share.placed_kinds.iter().copied()),
        }
    }

    /// The share this result stands for (taken over when no one else holds it, as a
    /// result just read from disk: it is large).
    fn share(this: Arc<ModuleResult>) -> Share {
        let r = Arc::try_unwrap(this).unwrap_or_else(|shared| (*shared).clone());
        let mut diags = Diagnostics::new();
        diags.extend(r.diags);
        Share {
            project: dagf_ir::Project {
                built: r.built,
                ..Default::default()
            },
            facts: r.facts,
            diags,
            made_as: r.made_as.into_iter().collect(),
            ids: r.ids,
            dag_ids: r.dag_ids.into_iter().collect(),
            ids_unsure: r.ids_unsure,
            used_factories: r.used_factories.into_iter().collect(),
            extended: r.extended.into_iter().collect(),
            parent_missing: r.parent_missing.into_iter().collect(),
            used_templates: r.used_templates.into_iter().collect(),
            used_callbacks: r.used_callbacks.into_iter().collect(),
            placed_kinds: r.placed_kinds.into_iter().collect(),
        }
    }

    /// Whether every index and place in the result is one of this program and these
    /// sources: a stored result is never trusted to be.
    fn fits(&self, prog: &Program, sources: &Sources, texts: bool) -> bool {
        let span_ok = |s: &Span| {
            (s.file.0 as usize) < sources.len()
                && s.start <= s.end
                && (s.end as usize) <= sources.get(s.file).text.len()
        };
        let diag_ok = |d: &Diagnostic| {
            d.primary
                .iter()
                .chain(&d.secondary)
                .all(|l| span_ok(&l.span))
        };
        let ids_ok = |ids: &[FactoryId]| ids.iter().all(|f| f.index() < prog.factories.len());
        (texts || self.built.iter().all(|b| b.text.is_empty()))
            && self.built.iter().all(|b| span_ok(&b.span))
            && self.facts.iter().all(|f| f.spans().all(|s| span_ok(&s)))
            && self.diags.iter().all(diag_ok)
            && self.made_as.iter().all(|(a, b)| diag_ok(a) && diag_ok(b))
            && self
                .parent_missing
                .iter()
                .all(|(_, ds)| ds.iter().all(diag_ok))
            && self.ids.iter().all(|(_, r)| {
                span_ok(&r.name_span)
                    && r.named_by.as_ref().is_none_or(span_ok)
                    && r.placed
                        .as_ref()
                        .is_none_or(|(i, s)| i.index() < prog.instances.len() && span_ok(s))
            })
            && ids_ok(&self.used_factories)
            && ids_ok(&self.extended)
            && ids_ok(&self.parent_missing.iter().map(|p| p.0).collect::<Vec<_>>())
            && self
                .used_templates
                .iter()
                .all(|t| t.index() < prog.templates.len())
            && self
                .used_callbacks
                .iter()
                .all(|c| c.index() < prog.callbacks.len())
            && self
                .placed_kinds
                .iter()
                .all(|k| k.index() < prog.tenants.len())
    }
}

/// Every module's key: the caller's, the program's layout (which file has which id,
/// which declaration which index: a result holds both), and the text of the module,
/// of every module it imports (directly or not) and of the data those modules read.
fn keys(
    prog: &Program,
    sources: &Sources,
    options: &crate::Options,
    caching: &Caching,
    modules: &[ModuleId],
) -> Vec<String> {
    let text_of = |m: ModuleId| sources.get(prog.modules[m].ast.file).text.as_str();
    let hashes: Vec<String> = prog
        .modules
        .iter()
        .map(|info| crate::stable_hash(&[&info.path, &sources.get(info.ast.file).text]))
        .collect();
    let mut layout: Vec<String> = sources.iter().map(|(_, f)| f.name.clone()).collect();
    layout.push(format!(
        "{} {} {} {} {} {} {} {} {} {} {} {}",
        prog.operators.len(),
        prog.factories.len(),
        prog.templates.len(),
        prog.callbacks.len(),
        prog.mixins.len(),
        prog.types.len(),
        prog.assets.len(),
        prog.tenants.len(),
        prog.instances.len(),
        prog.sources.len(),
        prog.profiles.len(),
        prog.pools.len(),
    ));
    for info in prog.modules.iter() {
        let mut names: Vec<&str> = info.scope.keys().map(String::as_str).collect();
        names.sort_unstable();
        layout.push(format!("{}: {}", info.path, names.join(" ")));
    }
    let layout: Vec<&str> = layout.iter().map(String::as_str).collect();
    let layout = crate::stable_hash(&layout);
    // Data documents not read by a source itself (the bases they extend): every module
    // depends on them.
    let by_sources: std::collections::HashSet<dagf_diag::FileId> = prog
        .sources
        .iter()
        .flat_map(|s| s.files.iter().copied())
        .collect();
    let mut bases: Vec<&str> = prog
        .config_files
        .values()
        .filter(|f| !by_sources.contains(f))
        .map(|f| sources.get(*f).text.as_str())
        .collect();
    bases.sort_unstable();
    let bases = crate::stable_hash(&bases);
    let mut sources_of: HashMap<ModuleId, Vec<dagf_diag::FileId>> = HashMap::new();
    for s in prog.sources.iter() {
        sources_of.entry(s.module).or_default().extend(&s.files);
    }
    modules
        .iter()
        .map(|&m| {
            // The module and what it imports, directly or not.
            let mut seen = vec![false; prog.modules.len()];
            let mut todo = vec![m];
            while let Some(x) = todo.pop() {
                if std::mem::replace(&mut seen[x.index()], true) {
                    continue;
                }
                todo.extend(prog.modules[x].imports.iter().filter_map(|i| i.target));
            }
            let mut parts: Vec<&str> = vec![&caching.key, &layout, &bases, &prog.modules[m].path];
            let mut reads_env = false;
            for (i, _) in seen.iter().enumerate().filter(|(_, s)| **s) {
                let x = ModuleId::from_index(i);
                parts.push(&hashes[i]);
                reads_env |= text_of(x).contains("getenv");
                for f in sources_of.get(&x).into_iter().flatten() {
                    parts.push(&sources.get(*f).text);
                }
            }
            let env: Vec<String>;
            if reads_env {
                env = options
                    .env_vars
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect();
                parts.extend(env.iter().map(String::as_str));
            }
            crate::stable_hash(&parts)
        })
        .collect()
}

/// The shares of `modules`, one per module, each from the cache when its key is there
/// and fits, else evaluated (on every core) and stored.
pub(super) fn shares(
    prog: &Program,
    sources: &Sources,
    options: &crate::Options,
    emit: Option<&crate::Emit>,
    caching: &Caching,
    modules: &[ModuleId],
) -> Vec<Share> {
    let keys = keys(prog, sources, options, caching, modules);
    let threads = crate::par::threads(options.threads).max(1);
    // Read (from disk, say) and checked on every core.
    let found: Vec<Option<Arc<ModuleResult>>> = crate::par::map(threads, &keys, |k| {
        caching
            .store
            .get(k)
            .filter(|r| r.fits(prog, sources, caching.texts))
    });
    let missing: Vec<(ModuleId, &String)> = modules
        .iter()
        .zip(&keys)
        .zip(&found)
        .filter(|(_, f)| f.is_none())
        .map(|((m, k), _)| (*m, k))
        .collect();
    let runs: Vec<&[(ModuleId, &String)]> = match missing.len() {
        0 => Vec::new(),
        n => missing.chunks(n.div_ceil(threads)).collect(),
    };
    let made: Vec<Share> = crate::par::each_part(&runs, |run| {
        run.iter()
            .map(|(m, key)| {
                let share = super::evaluate_share(prog, sources, options, emit, &[*m]);
                caching
                    .store
                    .put(key, Arc::new(ModuleResult::of(&share, caching.texts)));
                share
            })
            .collect::<Vec<Share>>()
    })
    .into_iter()
    .flatten()
    .collect();
    let mut made = made.into_iter();
    found
        .into_iter()
        .filter_map(|f| match f {
            Some(r) => Some(ModuleResult::share(r)),
            None => made.next(),
        })
        .collect()
}
