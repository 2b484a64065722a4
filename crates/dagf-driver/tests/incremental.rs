//! Incremental builds: after any sequence of edits, a build that reuses module results
//! (from the session's memory, or bytes stored between processes) makes the same files
//! and the same diagnostics as a clean build, and a damaged or foreign stored result is
//! ignored.

use dagf_driver::{Build, Goal, MemoryLoader, Options, Session};
use dagf_sema::{ModuleCache, ModuleResult};
use proptest::prelude::*;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

const TOML: &str = "[project]\nname = \"incr\"\nsrc = [\"src\"]\n";

const LIB: &str = r#"
factory ingest(source: str, retries: int = 1) {
    schedule = @daily
    start = 2024-01-01
    tags = ["ingest", source]
    default_args { retries = retries }
    task load: bash { bash_command = "load ${source}" }
    task done: empty
    load >> done
}

tenant Team {
    tier: "gold" | "silver"
    naming = "${tenant}__${dag}"
    output = "teams/${tenant}"
    policy {
        tags += ["tier:${tier}"]
    }
}
"#;

const CONFIG: &str = r#"
import "lib.dagf"

type Row = { name: str, retries: int }

source rows: list<Row> = json("../data/rows.json")

for r in rows {
    dag "cfg_${r.name}": ingest(source = r.name, retries = r.retries)
}
"#;

/// The project as a model the edits change: per module, its tenant and its instances
/// (name, retries, or a broken line), and the config file's rows.
#[derive(Clone, Debug)]
struct Model {
    modules: Vec<Vec<Line>>,
    rows: Vec<(String, i64)>,
    lib_tag: u32,
    next: u32,
}

#[derive(Clone, Debug)]
enum Line {
    Dag(String, i64),
    /// A mistake: an argument of the wrong type.
    Broken(String),
}

impl Model {
    fn new() -> Model {
        Model {
            modules: (0..4)
                .map(|m| {
                    (0..3)
                        .map(|i| Line::Dag(format!("d{m}_{i}"), i64::from(i)))
                        .collect()
                })
                .collect(),
            rows: vec![("crm".into(), 2), ("erp".into(), 3)],
            lib_tag: 0,
            next: 100,
        }
    }

    fn loader(&self) -> MemoryLoader {
        let mut l = MemoryLoader::new()
            .with("dagf.toml", TOML)
            .with(
                "src/lib.dagf",
                &LIB.replace("\"ingest\"", &format!("\"ingest{}\"", self.lib_tag)),
            )
            .with("src/cfg.dagf", CONFIG);
        let rows: Vec<String> = self
            .rows
            .iter()
            .map(|(n, r)| format!("{{\"name\": \"{n}\", \"retries\": {r}}}"))
            .collect();
        l = l.with("data/rows.json", &format!("[{}]\n", rows.join(", ")));
        for (m, lines) in self.modules.iter().enumerate() {
            let mut text = format!(
                "import \"lib.dagf\"\n\nTeam t{m} {{ tier = \"{}\" }}\n\n",
                if m % 2 == 0 { "gold" } else { "silver" }
            );
            for line in lines {
                match line {
                    Line::Dag(name, r) => {
                        text += &format!(
                            "dag {name}: ingest(source = \"{name}\", retries = {r}) in t{m}\n"
                        )
                    }
                    Line::Broken(name) => {
                        text += &format!(
                            "dag {name}: ingest(source = \"{name}\", retries = \"x\") in t{m}\n"
                        )
                    }
                }
            }
            l = l.with(&format!("src/m{m}.dagf"), &text);
        }
        l
    }

    /// Applies edit `kind` (with `pick` choosing where); a broken line is fixed first.
    fn edit(&mut self, kind: u8, pick: usize) {
        for lines in &mut self.modules {
            for line in lines.iter_mut() {
                if let Line::Broken(name) = line {
                    *line = Line::Dag(name.clone(), 1);
                }
            }
        }
        let m = pick % self.modules.len();
        let lines = &mut self.modules[m];
        self.next += 1;
        match kind % 6 {
            0 if !lines.is_empty() => {
                let i = pick % lines.len();
                if let Line::Dag(_, r) = &mut lines[i] {
                    *r = (*r + 1) % 5;
                }
            }
            1 => lines.push(Line::Dag(format!("n{}", self.next), 1)),
            2 if !lines.is_empty() => {
                lines.remove(pick % lines.len());
            }
            3 => {
                let i = pick % self.rows.len();
                self.rows[i].1 = (self.rows[i].1 + 1) % 4;
                if pick.is_multiple_of(3) {
                    self.rows.push((format!("r{}", self.next), 1));
                }
            }
            4 if !lines.is_empty() => {
                let i = pick % lines.len();
                if let Line::Dag(name, _) = &lines[i] {
                    lines[i] = Line::Broken(name.clone());
                }
            }
            _ => self.lib_tag = (self.lib_tag + 1) % 3,
        }
    }
}

/// Stored results as bytes, as the disk keeps them: each read decodes them again.
#[derive(Default)]
struct Bytes {
    stored: Mutex<HashMap<String, Vec<u8>>>,
}

impl ModuleCache for Bytes {
    fn get(&self, key: &str) -> Option<Arc<ModuleResult>> {
        let stored = self.stored.lock().ok()?;
        ModuleResult::from_bytes(stored.get(key)?, key).map(Arc::new)
    }

    fn put(&self, key: &str, result: Arc<ModuleResult>) {
        if let Ok(mut stored) = self.stored.lock() {
            stored.insert(key.to_string(), result.to_bytes(key));
        }
    }
}

fn options(goal: Goal, incremental: bool, store: Option<Arc<dyn ModuleCache>>) -> Options {
    Options {
        goal,
        incremental,
        store,
        ..Options::default()
    }
}

/// What two builds must agree on: every file and every diagnostic.
fn outcome(b: &Build) -> (BTreeMap<String, String>, Vec<String>, usize) {
    let files = b
        .files
        .iter()
        .map(|f| (format!("{}/{}", f.folder, f.file), f.text.clone()))
        .collect();
    let diags = b.diagnostics.iter().map(|d| format!("{d:?}")).collect();
    let dags = b.ir.as_ref().map_or(0, |ir| ir.dags.len() + ir.built.len());
    (files, diags, dags)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// Random edit sequences: every incremental build (in one session's memory, and in
    /// a new session reading stored bytes, as a new process would) equals a clean one.
    #[test]
    fn incremental_builds_equal_clean_builds(
        edits in proptest::collection::vec((0u8..6, 0usize..1000), 1..8)
    ) {
        let mut model = Model::new();
        let session = Session::new();
        let disk: Arc<Bytes> = Arc::new(Bytes::default());
        for (step, (kind, pick)) in std::iter::once((255u8, 0usize)).chain(edits).enumerate() {
            if step > 0 {
                model.edit(kind, pick);
            }
            let loader = model.loader();
            for goal in [Goal::Files, Goal::Check] {
                let clean = dagf_driver::build(&loader, &options(goal, false, None));
                let warm = session.build(&loader, &options(goal, true, None));
                let store: Arc<dyn ModuleCache> = disk.clone();
                let from_disk =
                    Session::new().build(&loader, &options(goal, true, Some(store)));
                let want = outcome(&clean);
                prop_assert_eq!(&outcome(&warm), &want, "in memory, step {} {:?}", step, goal);
                prop_assert_eq!(&outcome(&from_disk), &want, "from bytes, step {} {:?}", step, goal);
            }
        }
    }
}

/// A one-module edit evaluates that module alone; the rest are found.
#[test]
fn an_edit_evaluates_only_the_module_it_touches() {
    let mut model = Model::new();
    let session = Session::new();
    let o = options(Goal::Files, true, None);
    let first = session.build(&model.loader(), &o);
    assert!(first.ok(), "{:?}", first.diagnostics);
    let cold = session.evaluated();
    assert_eq!(cold, 6, "every module but the standard library's");
    model.edit(0, 1);
    let second = session.build(&model.loader(), &o);
    assert!(second.ok());
    assert_eq!(session.evaluated() - cold, 1);
    // Nothing changed: nothing evaluated.
    session.build(&model.loader(), &o);
    assert_eq!(session.evaluated() - cold, 1);
    // The config file: the module that reads it.
    model.edit(3, 0);
    session.build(&model.loader(), &o);
    assert_eq!(session.evaluated() - cold, 2);
    // The library everything imports: all of them.
    model.edit(5, 0);
    session.build(&model.loader(), &o);
    assert_eq!(session.evaluated() - cold, 2 + 6);
}

/// A stored result that is damaged, cut short, made for another key, from another
/// version, or not one at all is never used: the build is the clean one.
#[test]
fn damaged_or_foreign_stored_results_are_ignored() {
    let model = Model::new();
    let loader = model.loader();
    let clean = outcome(&dagf_driver::build(
        &loader,
        &options(Goal::Files, false, None),
    ));
    let disk = Arc::new(Bytes::default());
    let store: Arc<dyn ModuleCache> = disk.clone();
    Session::new().build(&loader, &options(Goal::Files, true, Some(store)));
    let originals: Vec<(String, Vec<u8>)> = disk
        .stored
        .lock()
        .map(|s| s.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default();
    assert_eq!(originals.len(), 6);
    let damages: Vec<Box<Damage>> = vec![
        Box::new(|_, b| b[..b.len() / 2].to_vec()),
        Box::new(|_, b| {
            let mut b = b.to_vec();
            let i = b.len() - 10;
            b[i] ^= 0x01;
            b
        }),
        Box::new(|_, _| b"not a cache file at all".to_vec()),
        Box::new(|_, _| vec![0xff, 0xfe, 0x00]),
        Box::new(|_, b| {
            String::from_utf8_lossy(b)
                .replacen("dagf module cache 2", "dagf module cache 1", 1)
                .into_bytes()
        }),
        // Another module's result, under this key.
        Box::new(|k, _| originals_other(k)),
        // A well-formed result for this key whose places point past the files.
        Box::new(|k, b| {
            let text = String::from_utf8_lossy(b).replace("\"end\":", "\"end\":9999");
            resealed(k, &text)
        }),
        // A well-formed result whose texts' lengths do not add up.
        Box::new(|k, b| resealed(k, &format!("{}x", String::from_utf8_lossy(b)))),
    ];
    for (n, damage) in damages.iter().enumerate() {
        let broken = Arc::new(Bytes::default());
        let mut damaged = 0;
        if let Ok(mut s) = broken.stored.lock() {
            for (k, v) in &originals {
                let bad = damage(k, v);
                damaged += usize::from(bad != *v);
                s.insert(k.clone(), bad);
            }
        }
        // (The library's result holds no place: the last damage leaves it whole.)
        assert!(damaged >= 5, "damage {n}");
        let store: Arc<dyn ModuleCache> = broken.clone();
        let session = Session::new();
        let b = session.build(&loader, &options(Goal::Files, true, Some(store)));
        assert_eq!(outcome(&b), clean, "damage {n}");
        assert_eq!(
            session.evaluated(),
            damaged,
            "damage {n}: each damaged result made again"
        );
    }
}

/// A change to a stored result (given its key and bytes).
type Damage = dyn Fn(&str, &[u8]) -> Vec<u8>;

/// A result stored for one key, under another's: what a foreign file looks like.
fn originals_other(key: &str) -> Vec<u8> {
    format!("dagf module cache 2 {key}x 0\n{{}}\n").into_bytes()
}

/// `text` (a stored result, changed) sealed again for `key`: what only a mistake in
/// dagfc itself could write.
fn resealed(key: &str, text: &str) -> Vec<u8> {
    let rest = text.split_once('\n').map_or("", |x| x.1);
    let (json, texts) = rest.split_once('\n').unwrap_or((rest, ""));
    ModuleResult::seal(key, json, texts)
}
