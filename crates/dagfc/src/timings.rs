//! `--timings`, `--trace` and `--metrics`: the clock the compiler's trace reads (the
//! compiler itself reads none), what it recorded, and the reports made from it. The
//! reports are plain functions of what was recorded; the clock and the process's
//! CPU time and memory (read from `/proc` on Linux) are the only outside facts.

use dagf_diag::Diagnostic;
use dagf_view::escape;
use serde_json::json;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::Instant;

/// One piece of work the build reported: a phase, a module, a dag.
#[derive(Clone, Debug)]
pub struct Event {
    /// `phase`, `module`, `dag` or `generate`.
    pub category: &'static str,
    /// What it was: the phase's name, the module's path, the dag's id.
    pub name: String,
    /// When it started, in microseconds from the start of the command.
    pub start: u64,
    /// How long it took, in microseconds.
    pub dur: u64,
    /// The thread it ran on: 0 for the first one seen, then 1, 2, ...
    pub tid: usize,
}

/// The trace the compiler reports to: a clock started with the command, and every
/// piece of work with the thread it ran on.
#[derive(Debug)]
pub struct Recorder {
    start: Instant,
    events: Mutex<Vec<Event>>,
    threads: Mutex<Vec<std::thread::ThreadId>>,
}

impl Recorder {
    /// A recorder whose clock starts now.
    pub fn new() -> Self {
        Recorder {
            start: Instant::now(),
            events: Mutex::new(Vec::new()),
            threads: Mutex::new(Vec::new()),
        }
    }

    /// What was recorded, in the order the pieces started.
    pub fn events(&self) -> Vec<Event> {
        let mut events = self.events.lock().map(|e| e.clone()).unwrap_or_default();
        events.sort_by_key(|e| (e.start, std::cmp::Reverse(e.dur)));
        events
    }

    /// Microseconds since the command started.
    pub fn elapsed(&self) -> u64 {
        u64::try_from(self.start.elapsed().as_micros()).unwrap_or(u64::MAX)
    }
}

impl dagf_driver::Trace for Recorder {
    fn now(&self) -> u64 {
        self.elapsed()
    }

    fn done(&self, category: &'static str, name: &str, start: u64) {
        let now = self.elapsed();
        let id = std::thread::current().id();
        let tid = match self.threads.lock() {
            Ok(mut threads) => match threads.iter().position(|t| *t == id) {
                Some(i) => i,
                None => {
                    threads.push(id);
                    threads.len() - 1
                }
            },
            Err(_) => 0,
        };
        if let Ok(mut events) = self.events.lock() {
            events.push(Event {
                category,
                name: name.to_string(),
                start,
                dur: now.saturating_sub(start),
                tid,
            });
        }
    }
}

/// What the process used: wall time, CPU time and peak memory (the last two where the
/// system says: Linux's `/proc/self`).
#[derive(Clone, Copy, Debug, Default)]
pub struct Usage {
    /// Microseconds from the start of the command.
    pub wall: u64,
    /// Microseconds of CPU time, user and system, over every thread.
    pub cpu: Option<u64>,
    /// The largest resident memory, in bytes.
    pub peak: Option<u64>,
}

/// The process's usage now.
pub fn usage(recorder: &Recorder) -> Usage {
    // `utime` and `stime` are fields 14 and 15 of /proc/self/stat, in clock ticks of
    // 1/100 s (USER_HZ, which Linux fixes at 100 for every architecture it exposes it on).
    let cpu = std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| {
            let after = s.rsplit_once(')')?.1;
            let fields: Vec<&str> = after.split_whitespace().collect();
            let utime: u64 = fields.get(11)?.parse().ok()?;
            let stime: u64 = fields.get(12)?.parse().ok()?;
            Some((utime + stime) * 10_000)
        });
    let peak = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
            let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
            Some(kb * 1024)
        });
    Usage {
        wall: recorder.elapsed(),
        cpu,
        peak,
    }
}

/// What the command found besides the clock: the diagnostics by code, the dags by
/// tenant, and what the build did to the output folder.
#[derive(Debug, Default)]
pub struct Collected {
    inner: RefCell<CollectedInner>,
}

#[derive(Debug, Default)]
struct CollectedInner {
    codes: BTreeMap<String, usize>,
    /// (tenant, dags, tasks), the top of the project under the empty name.
    scopes: BTreeMap<String, (usize, usize)>,
    files: Option<(usize, usize, usize)>,
    up_to_date: bool,
}

impl Collected {
    /// Counts each diagnostic under its code.
    pub fn diagnostics<'d>(&self, diags: impl IntoIterator<Item = &'d Diagnostic>) {
        let mut c = self.inner.borrow_mut();
        for d in diags {
            *c.codes.entry(d.code.as_str().to_string()).or_default() += 1;
        }
    }

    /// Counts a dag and its tasks under its tenant.
    pub fn dag(&self, tenant: Option<&str>, tasks: usize) {
        let mut c = self.inner.borrow_mut();
        let e = c
            .scopes
            .entry(tenant.unwrap_or("").to_string())
            .or_default();
        e.0 += 1;
        e.1 += tasks;
    }

    /// What the build did to the output folder: files written, unchanged, removed.
    pub fn files(&self, written: usize, unchanged: usize, removed: usize) {
        self.inner.borrow_mut().files = Some((written, unchanged, removed));
    }

    /// The build found everything as the last one left it.
    pub fn up_to_date(&self) {
        self.inner.borrow_mut().up_to_date = true;
    }
}

/// Total time per name of one category, longest first (ties by name).
fn totals(events: &[Event], category: &str) -> Vec<(String, u64, usize)> {
    let mut by: BTreeMap<&str, (u64, usize)> = BTreeMap::new();
    for e in events.iter().filter(|e| e.category == category) {
        let t = by.entry(&e.name).or_default();
        t.0 += e.dur;
        t.1 += 1;
    }
    let mut out: Vec<(String, u64, usize)> = by
        .into_iter()
        .map(|(n, (d, c))| (n.to_string(), d, c))
        .collect();
    out.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    out
}

/// The phases in the order they ran.
fn phases(events: &[Event]) -> Vec<(String, u64)> {
    let mut out: Vec<(String, u64)> = Vec::new();
    for e in events.iter().filter(|e| e.category == "phase") {
        match out.iter_mut().find(|(n, _)| *n == e.name) {
            Some(p) => p.1 += e.dur,
            None => out.push((e.name.clone(), e.dur)),
        }
    }
    out
}

fn ms(us: u64) -> String {
    format!("{:.1} ms", us as f64 / 1000.0)
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

/// How many of the slowest modules and dags a report lists.
const SLOWEST: usize = 10;

/// The `--timings` report for people: usage, then time per phase, the slowest modules
/// and the slowest dags.
pub fn text_report(events: &[Event], usage: Usage) -> String {
    let mut s = String::new();
    let threads = events.iter().map(|e| e.tid + 1).max().unwrap_or(1);
    let _ = writeln!(
        s,
        "timings: {} wall, {} CPU, peak memory {}, {} thread{}",
        ms(usage.wall),
        usage.cpu.map_or("unknown".into(), ms),
        usage.peak.map_or("unknown".into(), mib),
        threads,
        if threads == 1 { "" } else { "s" }
    );
    let phases = phases(events);
    let width = phases
        .iter()
        .map(|(n, _)| n.len())
        .max()
        .unwrap_or(5)
        .max(5);
    let _ = writeln!(s, "  {:<width$}  {:>10}", "phase", "time");
    for (name, dur) in &phases {
        let _ = writeln!(s, "  {name:<width$}  {:>10}", ms(*dur));
    }
    for (category, title) in [
        ("module", "slowest modules (their dags made on one thread)"),
        ("dag", "slowest dags (evaluated, checked and generated)"),
    ] {
        let list = totals(events, category);
        if list.is_empty() {
            continue;
        }
        let _ = writeln!(s, "  {title}:");
        let width = list
            .iter()
            .take(SLOWEST)
            .map(|(n, ..)| n.chars().count())
            .max()
            .unwrap_or(0);
        for (name, dur, _) in list.iter().take(SLOWEST) {
            let _ = writeln!(s, "    {name:<width$}  {:>10}", ms(*dur));
        }
        if list.len() > SLOWEST {
            let _ = writeln!(s, "    ... and {} more", list.len() - SLOWEST);
        }
    }
    s
}

/// The `--timings=html` report: the same as the text one, as a page with bars.
pub fn html_report(events: &[Event], usage: Usage, project: &str) -> String {
    let mut s = String::new();
    let _ = write!(
        s,
        concat!(
            "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n",
            "<title>dagfc timings: {p}</title>\n<style>\n",
            "body {{ font-family: Helvetica, Arial, sans-serif; margin: 2rem; color: #111827; }}\n",
            "table {{ border-collapse: collapse; margin-bottom: 1.5rem; }}\n",
            "td, th {{ padding: 0.2rem 0.7rem; text-align: left; font-size: 0.9rem; }}\n",
            "td.t {{ text-align: right; font-variant-numeric: tabular-nums; }}\n",
            ".bar {{ background: #5b8fc7; height: 0.8rem; }}\n",
            "</style>\n</head>\n<body>\n<h1>dagfc timings: {p}</h1>\n",
            "<p>{wall} wall &#183; {cpu} CPU &#183; peak memory {peak}</p>\n"
        ),
        p = escape(project),
        wall = ms(usage.wall),
        cpu = usage.cpu.map_or("unknown".into(), ms),
        peak = usage.peak.map_or("unknown".into(), mib),
    );
    let section = |s: &mut String, title: &str, rows: Vec<(String, u64)>| {
        let longest = rows.iter().map(|r| r.1).max().unwrap_or(1).max(1);
        let _ = writeln!(s, "<h2>{}</h2>\n<table>", escape(title));
        for (name, dur) in rows {
            let width = (dur as f64 / longest as f64 * 300.0).round();
            let _ = writeln!(
                s,
                "<tr><td>{}</td><td class=\"t\">{}</td><td><div class=\"bar\" style=\"width: {width}px\"></div></td></tr>",
                escape(&name),
                ms(dur)
            );
        }
        s.push_str("</table>\n");
    };
    section(&mut s, "Phases", phases(events));
    for (category, title) in [("module", "Slowest modules"), ("dag", "Slowest dags")] {
        let rows: Vec<(String, u64)> = totals(events, category)
            .into_iter()
            .take(SLOWEST * 2)
            .map(|(n, d, _)| (n, d))
            .collect();
        if !rows.is_empty() {
            section(&mut s, title, rows);
        }
    }
    s.push_str("</body>\n</html>\n");
    s
}

/// The events as a Chrome trace (the JSON Perfetto and `chrome://tracing` open): one
/// complete event per piece of work, on the thread it ran on.
pub fn chrome_trace(events: &[Event]) -> String {
    let mut list: Vec<serde_json::Value> = vec![json!({
        "name": "process_name", "ph": "M", "pid": 1, "args": { "name": "dagfc" }
    })];
    let threads = events.iter().map(|e| e.tid).max().map_or(0, |m| m + 1);
    for t in 0..threads {
        list.push(json!({
            "name": "thread_name", "ph": "M", "pid": 1, "tid": t,
            "args": { "name": if t == 0 { "main".to_string() } else { format!("worker {t}") } }
        }));
    }
    for e in events {
        list.push(json!({
            "name": e.name, "cat": e.category, "ph": "X",
            "ts": e.start, "dur": e.dur, "pid": 1, "tid": e.tid,
        }));
    }
    format!(
        "{}\n",
        json!({ "traceEvents": list, "displayTimeUnit": "ms" })
    )
}

/// Everything `--metrics` reports, as one JSON object.
pub fn metrics(
    events: &[Event],
    usage: Usage,
    collected: &Collected,
    status: u8,
) -> serde_json::Value {
    let c = collected.inner.borrow();
    let (dags, tasks) = c
        .scopes
        .values()
        .fold((0, 0), |(d, t), (dd, tt)| (d + dd, t + tt));
    let errors: usize = c
        .codes
        .iter()
        .filter(|(k, _)| !k.starts_with('W'))
        .map(|(_, n)| n)
        .sum();
    let warnings: usize = c
        .codes
        .iter()
        .filter(|(k, _)| k.starts_with('W'))
        .map(|(_, n)| n)
        .sum();
    json!({
        "success": status == 0,
        "dags": dags,
        "tasks": tasks,
        "scopes": c.scopes.iter().map(|(tenant, (d, t))| json!({
            "tenant": tenant, "dags": d, "tasks": t,
        })).collect::<Vec<_>>(),
        "errors": errors,
        "warnings": warnings,
        "diagnostics": c.codes,
        "phase_seconds": phases(events).into_iter()
            .map(|(n, d)| (n, json!(d as f64 / 1e6)))
            .collect::<serde_json::Map<_, _>>(),
        "files": c.files.map(|(w, u, r)| json!({ "written": w, "unchanged": u, "removed": r })),
        "up_to_date": c.up_to_date,
        "wall_seconds": usage.wall as f64 / 1e6,
        "cpu_seconds": usage.cpu.map(|c| c as f64 / 1e6),
        "peak_memory_bytes": usage.peak,
    })
}

/// A label value in the Prometheus text format: `\`, `"` and newlines escaped.
fn label(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// The metrics in the Prometheus text exposition format (for a node exporter's
/// textfile collector or a push gateway).
pub fn prometheus(m: &serde_json::Value) -> String {
    let mut s = String::new();
    let mut family = |name: &str, kind: &str, help: &str, samples: Vec<(String, f64)>| {
        let _ = writeln!(s, "# HELP {name} {help}");
        let _ = writeln!(s, "# TYPE {name} {kind}");
        for (labels, v) in samples {
            let _ = writeln!(s, "{name}{labels} {v}");
        }
    };
    let num = |v: &serde_json::Value| v.as_f64().unwrap_or(0.0);
    family(
        "dagf_build_success",
        "gauge",
        "1 if the last build had no error.",
        vec![(String::new(), if m["success"] == true { 1.0 } else { 0.0 })],
    );
    let scopes = m["scopes"].as_array().cloned().unwrap_or_default();
    let per_scope = |key: &str| -> Vec<(String, f64)> {
        scopes
            .iter()
            .map(|sc| {
                (
                    format!(
                        "{{tenant=\"{}\"}}",
                        label(sc["tenant"].as_str().unwrap_or(""))
                    ),
                    num(&sc[key]),
                )
            })
            .collect()
    };
    family(
        "dagf_dags",
        "gauge",
        "DAGs built, by tenant (\"\" for none).",
        per_scope("dags"),
    );
    family(
        "dagf_tasks",
        "gauge",
        "Tasks built, by tenant (\"\" for none).",
        per_scope("tasks"),
    );
    let codes = m["diagnostics"].as_object().cloned().unwrap_or_default();
    family(
        "dagf_diagnostics",
        "gauge",
        "Diagnostics of the last build, by code.",
        codes
            .iter()
            .map(|(k, v)| (format!("{{code=\"{}\"}}", label(k)), num(v)))
            .collect(),
    );
    let phases = m["phase_seconds"].as_object().cloned().unwrap_or_default();
    family(
        "dagf_phase_seconds",
        "gauge",
        "Time each phase of the last build took.",
        phases
            .iter()
            .map(|(k, v)| (format!("{{phase=\"{}\"}}", label(k)), num(v)))
            .collect(),
    );
    if let Some(files) = m["files"].as_object() {
        family(
            "dagf_output_files",
            "gauge",
            "What the last build did to the output folder's files.",
            ["written", "unchanged", "removed"]
                .iter()
                .map(|k| (format!("{{outcome=\"{k}\"}}"), num(&files[*k])))
                .collect(),
        );
    }
    family(
        "dagf_up_to_date",
        "gauge",
        "1 if the last build found nothing changed and did nothing.",
        vec![(
            String::new(),
            if m["up_to_date"] == true { 1.0 } else { 0.0 },
        )],
    );
    family(
        "dagf_wall_seconds",
        "gauge",
        "Wall time of the last build.",
        vec![(String::new(), num(&m["wall_seconds"]))],
    );
    if !m["cpu_seconds"].is_null() {
        family(
            "dagf_cpu_seconds",
            "gauge",
            "CPU time of the last build, every thread.",
            vec![(String::new(), num(&m["cpu_seconds"]))],
        );
    }
    if !m["peak_memory_bytes"].is_null() {
        family(
            "dagf_peak_memory_bytes",
            "gauge",
            "Largest resident memory of the last build.",
            vec![(String::new(), num(&m["peak_memory_bytes"]))],
        );
    }
    s
}
