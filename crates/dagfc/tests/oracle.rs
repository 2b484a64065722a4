//! The oracle: dagfc's verdict must equal Airflow's. Random programs, well typed as
//! far as the grammar and the standard library's types go but full of boundary values
//! (empty, zero, negative, huge, Unicode, Python keywords, the longest names), are
//! compiled in process; everything dagfc accepts is written out and loaded by real
//! Airflow 3.3.2's DagBag in one batch, and serialized as the scheduler stores it. Any
//! import error, any warning from a generated file and any failed serialization fails
//! the test and prints the program that made the file.
//!
//! `cargo test` runs a fixed-seed sample; `scripts/fuzz-airflow.sh MINUTES` runs batches
//! with new seeds until the time is up. Set `DAGF_ORACLE_SEED` and
//! `DAGF_ORACLE_PROGRAMS` to choose a batch by hand.

mod common;

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write;
use std::path::Path;

/// xorshift64*: small, fast and the same everywhere, so a seed names a batch.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
    fn s(&mut self, items: &[&'static str]) -> &'static str {
        items[self.below(items.len())]
    }
}

/// Text values at the edges of what Airflow and Python take.
const STRINGS: &[&str] = &[
    "",
    " ",
    "plain",
    "class",
    "None",
    "import",
    "{{ ds }}",
    "echo {{ ds }}",
    "tab\there",
    "line\nbreak",
    "quote \" and ' both",
    "back\\slash",
    "café",
    "日本語",
    "emoji 🚀",
    "dollar \\$ sign",
    "ends.sh",
    "ends.md",
    "%s %d {}",
    "\u{1}control",
];

/// Names at the edges of what a task, group or dag id may be.
const IDS: &[&str] = &[
    "load", "class", "None", "_x", "a-b", "a.b", "x1", "def", "import", "dag", "task", "print",
    "tenant", "a__b", "_", "lambda", "match", "type",
];

const INTS: &[i64] = &[
    0,
    1,
    -1,
    2,
    7,
    100,
    101,
    2_147_483_647,
    2_147_483_648,
    -2_147_483_648,
    i64::MAX,
];

const DURATIONS: &[&str] = &[
    "0s",
    "1ms",
    "1s",
    "30s",
    "5m",
    "1h",
    "1h30m",
    "1d",
    "7d",
    "-5m",
    "999999999d",
    "2w",
];

const CRONS: &[&str] = &[
    "0 6 * * 1-5",
    "*/15 * * * *",
    "0 0 30 2 *",
    "0 0 29 2 *",
    "0 0 31 4,6 *",
    "0 0 1 jan,jul *",
    "59 23 31 12 *",
    "0 25 * * *",
    "0 0 * * 7",
];

const PRESETS: &[&str] = &[
    "@daily",
    "@hourly",
    "@once",
    "@continuous",
    "@weekly",
    "@monthly",
    "@quarterly",
    "@yearly",
    "@annually",
    "@midnight",
];

const TRIGGER_RULES: &[&str] = &[
    "all_success",
    "all_failed",
    "all_done",
    "all_done_min_one_success",
    "all_done_setup_success",
    "all_skipped",
    "one_success",
    "one_done",
    "one_failed",
    "none_failed",
    "none_failed_min_one_success",
    "none_skipped",
    "always",
];

const STATES: &[&str] = &[
    "success",
    "failed",
    "skipped",
    "queued",
    "running",
    "upstream_failed",
    "removed",
    "bogus",
];

const URIS: &[&str] = &[
    "s3://lake/orders",
    "s3://lake/orders/",
    "S3://lake/orders",
    "file:///tmp/x",
    "airflow://x",
    "s3://user:pw@lake/k",
    "s3://lake/k?b=2&a=1",
    "x-custom://A/b/",
    "/plain/path",
    "self",
    "   ",
    "s3://lake/日本",
    "gs://bucket/path#frag",
];

const OWNER_LINKS: &[&str] = &[
    "https://wiki.example.com/team",
    "mailto:team@example.com",
    "mailto:",
    "wiki.example.com",
    "http:/x",
    "ftp://host",
    "javascript:alert(1)",
];

/// A dagf string literal holding `s`.
fn lit(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '$' => out.push_str("\\$"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

struct Gen<'r> {
    rng: &'r mut Rng,
    /// The program's number: every dag id starts with it, so ids of two programs never
    /// meet in one DagBag.
    program: usize,
    /// Dag ids made so far in this program, for triggers and sensors to name.
    dag_ids: Vec<String>,
    assets: Vec<String>,
    has_callback: bool,
    has_operator: bool,
    /// How often (in percent) a choice takes a value from the edge of what is
    /// allowed rather than an ordinary one: each program has its own.
    edge: u64,
}

impl Gen<'_> {
    /// An ordinary value, or one of the edge cases.
    fn choose(&mut self, ordinary: &[&'static str], edge: &[&'static str]) -> &'static str {
        if self.rng.chance(self.edge) {
            self.rng.s(edge)
        } else {
            self.rng.s(ordinary)
        }
    }

    fn string(&mut self) -> String {
        if self.rng.chance(self.edge / 5) {
            return lit(&"x".repeat(
                self.rng
                    .pick(&[99usize, 100, 101, 250, 251, 1600])
                    .to_owned(),
            ));
        }
        lit(self.choose(
            &["plain", "{{ ds }}", "echo {{ ds }}", "café", "a b"],
            STRINGS,
        ))
    }

    fn int(&mut self) -> String {
        if !self.rng.chance(self.edge) {
            return self.rng.s(&["1", "2", "3", "8", "16"]).to_string();
        }
        let n = *self.rng.pick(INTS);
        if n == i64::MAX && self.rng.chance(50) {
            // A literal may not be negative past i64::MIN + 1: build the minimum.
            return "(-9223372036854775807 - 1)".to_string();
        }
        n.to_string()
    }

    fn duration(&mut self) -> String {
        self.choose(&["30s", "5m", "1h", "1d"], DURATIONS)
            .to_string()
    }

    fn datetime(&mut self) -> String {
        let year = if self.rng.chance(self.edge) {
            *self.rng.pick(&[1u32, 1970, 2024, 9999])
        } else {
            2024
        };
        let month = 1 + self.rng.below(12);
        let day = 1 + self.rng.below(28);
        let mut s = format!("{year:04}-{month:02}-{day:02}");
        if self.rng.chance(50) {
            let _ = write!(s, "T{:02}:{:02}", self.rng.below(24), self.rng.below(60));
            if self.rng.chance(40) {
                let sign = if self.rng.chance(50) { '+' } else { '-' };
                let _ = write!(s, "{sign}{:02}:00", self.rng.below(15));
            }
        }
        s
    }

    fn value(&mut self, depth: u32) -> String {
        match self.rng.below(if depth > 1 { 5 } else { 7 }) {
            0 => self.string(),
            1 => self.int(),
            2 => (if self.rng.chance(50) { "true" } else { "false" }).into(),
            3 => self
                .rng
                .pick(&["0.5", "0.0", "1000000000000000000000.5"])
                .to_string(),
            4 => "none".into(),
            5 => {
                let n = self.rng.below(3);
                let items: Vec<String> = (0..n).map(|_| self.value(depth + 1)).collect();
                format!("[{}]", items.join(", "))
            }
            _ => {
                let n = self.rng.below(3);
                let entries: Vec<String> = (0..n)
                    .map(|i| format!("k{i} = {}", self.value(depth + 1)))
                    .collect();
                format!("{{ {} }}", entries.join(", "))
            }
        }
    }

    fn id(&mut self) -> String {
        let base = self
            .choose(&["load", "extract", "a-b", "a.b", "x1"], IDS)
            .to_string();
        if self.rng.chance(self.edge / 10) {
            return format!(
                "{base}{}",
                "x".repeat(self.rng.pick(&[195usize, 200, 260]).to_owned())
            );
        }
        base
    }

    fn schedule(&mut self) -> String {
        match self.rng.below(6) {
            0 => lit(self.choose(&["0 6 * * 1-5", "*/15 * * * *"], CRONS)),
            1 => self
                .choose(&["@daily", "@hourly", "@weekly"], PRESETS)
                .to_string(),
            2 => self.duration(),
            3 => "none".into(),
            4 if !self.assets.is_empty() => {
                let a = self.rng.pick(&self.assets).clone();
                let b = self.rng.pick(&self.assets).clone();
                format!("{a} {} {b}", if self.rng.chance(50) { "&" } else { "|" })
            }
            _ => "@daily".into(),
        }
    }

    fn task_args(&mut self, out: &mut Vec<String>) {
        let n = self.rng.below(4);
        let mut seen: Vec<String> = Vec::new();
        for _ in 0..n {
            let arg = match self.rng.below(13) {
                0 => format!(
                    "trigger_rule = {}",
                    lit(self.choose(&["all_success", "all_done", "none_failed"], TRIGGER_RULES))
                ),
                1 => format!("retries = {}", self.int()),
                2 => format!("retry_delay = {}", self.duration()),
                3 => format!("priority_weight = {}", self.int()),
                4 => format!(
                    "pool = {}",
                    lit(self.choose(&["default_pool"], &["", "default_pool"]))
                ),
                5 => format!("pool_slots = {}", self.int()),
                6 => format!("doc_md = {}", self.string()),
                7 => format!("execution_timeout = {}", self.duration()),
                8 => format!("owner = {}", self.string()),
                9 => format!(
                    "weight_rule = {}",
                    lit(self.rng.s(&["downstream", "upstream", "absolute"]))
                ),
                10 if !self.assets.is_empty() => {
                    format!("outlets = [{}]", self.rng.pick(&self.assets).clone())
                }
                11 if self.has_callback => {
                    format!("on_failure_callback = notify(msg = {})", self.string())
                }
                12 => format!("wait_for_downstream = {}", self.rng.chance(50)),
                _ => format!("queue = {}", self.string()),
            };
            // Each argument once (twice is an error of the program, not of a value).
            let name = arg.split(' ').next().unwrap_or_default().to_string();
            if seen.contains(&name) || out.iter().any(|a| a.starts_with(&format!("{name} "))) {
                continue;
            }
            seen.push(name);
            out.push(arg);
        }
    }

    fn task(&mut self, out: &mut String, indent: &str, id: &str) {
        let mut fields: Vec<String> = Vec::new();
        let op = match self.rng.below(11) {
            0 => {
                fields.push(format!("bash_command = {}", self.string()));
                "bash"
            }
            1 => {
                fields.push("python_callable = \"oracle_helpers.work\"".into());
                if self.rng.chance(50) {
                    fields.push(format!("op_kwargs = {{ value = {} }}", self.value(1)));
                }
                "python"
            }
            2 => {
                fields.push("python_callable = \"oracle_helpers.choose\"".into());
                "branch"
            }
            3 => {
                fields.push("python_callable = \"oracle_helpers.work\"".into());
                "short_circuit"
            }
            4 => {
                let target = self.dag_target();
                fields.push(format!("external_dag_id = {}", lit(&target)));
                if self.rng.chance(50) {
                    fields.push(format!("external_task_id = {}", lit(&self.id())));
                }
                if self.rng.chance(40) {
                    let state = self.choose(&["success"], STATES);
                    fields.push(format!("allowed_states = [{}]", lit(state)));
                }
                if self.rng.chance(40) {
                    let state = self.choose(&["failed"], STATES);
                    fields.push(format!("failed_states = [{}]", lit(state)));
                }
                self.sensor_args(&mut fields);
                "external_task"
            }
            5 => {
                fields.push(format!("filepath = {}", self.string()));
                self.sensor_args(&mut fields);
                "file"
            }
            6 => {
                fields.push(format!("delta = {}", self.duration()));
                "time_delta"
            }
            7 => {
                let target = self.dag_target();
                fields.push(format!("trigger_dag_id = {}", lit(&target)));
                if self.rng.chance(50) {
                    fields.push(format!("poke_interval = {}", self.duration()));
                }
                if self.rng.chance(40) {
                    let state = self.choose(&["success"], STATES);
                    fields.push(format!("allowed_states = [{}]", lit(state)));
                }
                "trigger_dag"
            }
            8 if self.has_operator => {
                fields.push(format!("size = {}", self.int()));
                "custom"
            }
            _ => "empty",
        };
        self.task_args(&mut fields);
        let _ = writeln!(
            out,
            "{indent}task {}: {op} {{ {} }}",
            lit(id),
            fields.join(", ")
        );
    }

    fn sensor_args(&mut self, fields: &mut Vec<String>) {
        if self.rng.chance(40) {
            fields.push(format!("poke_interval = {}", self.duration()));
        } else if self.rng.chance(40) {
            fields.push(format!("timeout = {}", self.duration()));
        }
        if self.rng.chance(30) {
            fields.push(format!(
                "mode = {}",
                lit(self.rng.s(&["poke", "reschedule"]))
            ));
        }
        if self.rng.chance(self.edge / 2) {
            fields.push(format!("soft_fail = {}", self.rng.chance(50)));
            fields.push(format!("never_fail = {}", self.rng.chance(50)));
        }
    }

    fn dag_target(&mut self) -> String {
        if !self.dag_ids.is_empty() && self.rng.chance(80) {
            return self.rng.pick(&self.dag_ids).clone();
        }
        format!("p{}_elsewhere", self.program)
    }

    fn dag(&mut self, out: &mut String, n: usize) {
        let name = if self.rng.chance(10) {
            let id = self.id();
            format!("p{}_{n}_{id}", self.program)
        } else {
            format!("p{}_{n}", self.program)
        };
        let _ = writeln!(out, "dag {} {{", lit(&name));
        let _ = writeln!(out, "    schedule = {}", self.schedule());
        if self.rng.chance(85) {
            let _ = writeln!(out, "    start = {}", self.datetime());
        }
        if self.rng.chance(15) {
            let end = if self.rng.chance(self.edge) {
                self.datetime()
            } else {
                "9000-01-01".into()
            };
            let _ = writeln!(out, "    end = {end}");
        }
        if self.rng.chance(30) {
            let _ = writeln!(out, "    catchup = {}", self.rng.chance(self.edge.max(10)));
        }
        if self.rng.chance(50) {
            let tags: Vec<String> = (0..1 + self.rng.below(3)).map(|_| self.string()).collect();
            let _ = writeln!(out, "    tags = [{}]", tags.join(", "));
        }
        for (chance, line) in [
            (20, "description"),
            (20, "doc"),
            (20, "max_active_runs"),
            (15, "max_active_tasks"),
            (15, "dagrun_timeout"),
            (15, "fail_fast"),
            (15, "owner_links"),
            (15, "params"),
        ] {
            if !self.rng.chance(chance) {
                continue;
            }
            let value = match line {
                "description" | "doc" => self.string(),
                "max_active_runs" | "max_active_tasks" => self.int(),
                "dagrun_timeout" => self.duration(),
                "fail_fast" => self.rng.chance(50).to_string(),
                "owner_links" => format!(
                    "{{ data = {} }}",
                    lit(self.choose(&["https://wiki.example.com/team"], OWNER_LINKS))
                ),
                _ => format!("{{ p = {} }}", self.value(1)),
            };
            let _ = writeln!(out, "    {line} = {value}");
        }
        if self.rng.chance(60) {
            let mut args = Vec::new();
            self.task_args(&mut args);
            if !args.is_empty() {
                let _ = writeln!(out, "    default_args {{ {} }}", args.join(", "));
            }
        }
        // Tasks, some in a group, each named by the expression a dependency uses.
        let mut tasks: Vec<String> = Vec::new();
        let name_of = |id: &str| -> String {
            let plain = id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                && !id.starts_with(|c: char| c.is_ascii_digit())
                && !matches!(id, "task" | "dag" | "group" | "none" | "true" | "false");
            if plain { id.to_string() } else { lit(id) }
        };
        for t in 0..1 + self.rng.below(5) {
            let id = if self.rng.chance(self.edge.max(10)) {
                let base = self.id();
                // Two tasks of one id are a mistake of the program; an odd id is the point.
                if self.rng.chance(self.edge) {
                    base
                } else {
                    format!("{base}{t}")
                }
            } else {
                format!("t{t}")
            };
            if self.rng.chance(15) {
                let gid = if self.rng.chance(self.edge) {
                    self.id()
                } else {
                    format!("g{t}")
                };
                let _ = writeln!(out, "    group {} {{", lit(&gid));
                self.task(out, "        ", &id);
                let _ = writeln!(out, "    }}");
                tasks.push(lit(&format!("{gid}.{id}")));
            } else {
                self.task(out, "    ", &id);
                tasks.push(name_of(&id));
            }
        }
        for _ in 0..self.rng.below(tasks.len() + 1) {
            let (mut a, mut b) = (self.rng.below(tasks.len()), self.rng.below(tasks.len()));
            // Mostly forward, so that few programs are cycles.
            if a > b && !self.rng.chance(self.edge) {
                std::mem::swap(&mut a, &mut b);
            }
            if a != b {
                let _ = writeln!(out, "    {} >> {}", tasks[a], tasks[b]);
            }
        }
        let _ = writeln!(out, "}}");
        self.dag_ids.push(name);
    }

    fn program(&mut self) -> String {
        let mut out = String::new();
        // The dag that `dag_target` names outside the program.
        let elsewhere = format!("p{}_elsewhere", self.program);
        let _ = writeln!(out, "extern dag {}", lit(&elsewhere));
        for a in 0..self.rng.below(3) {
            let uri = self.choose(
                &["s3://lake/orders", "s3://lake/events", "file:///tmp/x"],
                URIS,
            );
            let _ = writeln!(out, "asset a{a} = {}", lit(uri));
            self.assets.push(format!("a{a}"));
        }
        if self.rng.chance(30) {
            self.has_callback = true;
            let key = self.choose(&["msg"], &["class", "msg"]);
            let _ = writeln!(
                out,
                "callback notify(msg: str) = python \"oracle_helpers.notify\" {{ {key} = msg }}"
            );
        }
        if self.rng.chance(25) {
            self.has_operator = true;
            let field = self.choose(&["size"], &["task_id", "from", "size"]);
            let path = self.choose(
                &["oracle_helpers.AnyOp"],
                &[
                    "oracle helpers.AnyOp",
                    "oracle_helpers.import.AnyOp",
                    "AnyOp",
                ],
            );
            let _ = writeln!(out, "operator custom = {path:?} {{ {field}: int? }}");
        }
        for n in 0..1 + self.rng.below(3) {
            self.dag(&mut out, n);
        }
        out
    }
}

/// The Python module the generated DAGs import their callables and operator from.
const HELPERS: &str = r#"
"""Callables and an operator for the oracle's generated DAGs."""
from airflow.sdk import BaseOperator


def work(**kwargs):
    return kwargs


def choose(**kwargs):
    return None


def notify(context=None, **kwargs):
    return None


class AnyOp(BaseOperator):
    def __init__(self, *, size=None, **kwargs):
        super().__init__(**kwargs)
        self.size = size
"#;

struct Memory(HashMap<String, String>);

impl dagf_sema::Loader for Memory {
    fn read(&self, path: &str) -> Result<Vec<u8>, dagf_sema::ReadError> {
        self.0
            .get(path)
            .map(|text| text.clone().into_bytes())
            .ok_or(dagf_sema::ReadError::NotFound)
    }
}

/// Compiles one program as `dagfc build` does: the files, or the codes of its errors.
fn compile(text: &str, taskflow: bool) -> Result<Vec<(String, String)>, Vec<String>> {
    let loader = Memory(HashMap::from([("main.dagf".to_string(), text.to_string())]));
    let checked = dagf_sema::check(
        &["main.dagf".to_string()],
        &loader,
        &dagf_sema::Options::default(),
    );
    let Some(mut project) = checked.project else {
        return Err(checked
            .diagnostics
            .into_sorted()
            .into_iter()
            .filter(|d| d.code.severity() == dagf_diag::Severity::Error)
            .map(|d| d.code.to_string())
            .collect());
    };
    let style = if taskflow {
        dagf_py::Style::Taskflow
    } else {
        dagf_py::Style::Classic
    };
    Ok(project
        .dags
        .iter_mut()
        .map(|dag| {
            dagf_ir::passes::run(
                dag,
                dagf_ir::passes::Options::DEFAULT,
                dagf_sema::is_common_task_arg,
            );
            (dagf_py::file_name(dag), dagf_py::generate(dag, style))
        })
        .collect())
}

/// Generates, compiles and loads one batch; the programs whose files Airflow refused,
/// with what it said.
fn batch(seed: u64, programs: usize, dir: &Path) -> (usize, usize, Vec<String>) {
    let mut rng = Rng(seed | 1);
    let mut texts: BTreeMap<usize, String> = BTreeMap::new();
    let (mut accepted, mut files) = (0, 0);
    let mut rejections: BTreeMap<String, usize> = BTreeMap::new();
    std::fs::write(dir.join("oracle_helpers.py"), HELPERS).expect("write helpers");
    for p in 0..programs {
        let text = Gen {
            rng: &mut rng,
            program: p,
            dag_ids: Vec::new(),
            assets: Vec::new(),
            has_callback: false,
            has_operator: false,
            edge: [2, 5, 10, 25][p % 4],
        }
        .program();
        let out = match compile(&text, p % 3 == 0) {
            Ok(out) => out,
            Err(codes) => {
                if std::env::var_os("DAGF_ORACLE_SHOW")
                    .is_some_and(|c| codes.iter().any(|x| **x == *c))
                {
                    println!("--- program {p} refused with {codes:?}:\n{text}");
                }
                for c in codes {
                    *rejections.entry(c).or_insert(0usize) += 1;
                }
                continue;
            }
        };
        accepted += 1;
        let folder = dir.join(format!("p{p}"));
        std::fs::create_dir_all(&folder).expect("create program folder");
        for (name, py) in out {
            std::fs::write(folder.join(name), py).expect("write generated file");
            files += 1;
        }
        texts.insert(p, text);
    }
    println!("oracle: errors in the programs dagfc refused, by code: {rejections:?}");
    let json = dir.join("report.json");
    let run = std::process::Command::new(common::venv_python())
        .arg(common::repo().join("tests/airflow/conformance.py"))
        .arg("--dags")
        .arg(dir)
        .arg("--json")
        .arg(&json)
        .output()
        .expect("run conformance.py");
    let report: serde_json::Value = std::fs::read_to_string(&json)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_else(|| {
            panic!(
                "conformance.py wrote no report:\n{}{}",
                String::from_utf8_lossy(&run.stdout),
                String::from_utf8_lossy(&run.stderr)
            )
        });
    let mut refused = Vec::new();
    let failures = report["failures"].as_object().cloned().unwrap_or_default();
    for (subject, messages) in failures {
        // A subject is a file (`p12/p12_0.py`) or a dag id (`p12_0`).
        let program = subject
            .trim_start_matches('p')
            .split(['_', '/'])
            .next()
            .and_then(|n| n.parse::<usize>().ok());
        let text = program
            .and_then(|p| texts.get(&p))
            .cloned()
            .unwrap_or_default();
        refused.push(format!(
            "Airflow refused {subject}:\n{}\n--- the program ---\n{text}",
            serde_json::to_string_pretty(&messages).unwrap_or_default()
        ));
    }
    let loaded = report["dags"].as_object().map_or(0, |d| d.len());
    assert!(
        !refused.is_empty() || loaded == files,
        "Airflow loaded {loaded} DAGs of {files} files written"
    );
    (accepted, files, refused)
}

#[test]
fn airflow_accepts_everything_dagfc_accepts() {
    let seed = std::env::var("DAGF_ORACLE_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_261_207u64);
    let programs = std::env::var("DAGF_ORACLE_PROGRAMS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(600usize);
    let dir = tempfile::tempdir().expect("temp dir");
    let (accepted, files, refused) = batch(seed, programs, dir.path());
    println!(
        "oracle: seed {seed}, {programs} programs, {accepted} accepted, {files} DAG files, {} refused by Airflow",
        refused.len()
    );
    assert!(
        refused.is_empty(),
        "dagfc accepted what Airflow refuses (seed {seed}):\n\n{}",
        refused.join("\n\n")
    );
    // A sample that dagfc accepts wholesale, or refuses wholesale, tests nothing.
    assert!(
        accepted * 5 >= programs && accepted * 20 <= programs * 19,
        "{accepted} of {programs} programs accepted: the generator needs rebalancing"
    );
}
