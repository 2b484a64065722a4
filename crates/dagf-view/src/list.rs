//! `dagfc ls`: one row per dag.

use dagf_diag::Sources;
use dagf_ir::{Project, Value, value_text};

/// One dag, as `dagfc ls` lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    /// The dag's id.
    pub dag_id: String,
    /// The file it is written to, relative to the output folder (`acme/acme__ingest.py`).
    pub file: String,
    /// The tenant it is placed in, if any.
    pub tenant: Option<String>,
    /// Its schedule as the source would write it (`"@daily"`, `none`).
    pub schedule: String,
    /// How many tasks it has.
    pub tasks: usize,
    /// Where it is declared: `file:line`.
    pub source: String,
}

/// Which dags `dagfc ls` shows.
#[derive(Clone, Copy, Debug, Default)]
pub struct Filter<'a> {
    /// A dag id pattern: `*` matches any run of characters, `?` any one.
    pub pattern: Option<&'a str>,
    /// Only the dags of this tenant.
    pub tenant: Option<&'a str>,
}

/// The rows of the dags `filter` selects, sorted by dag id.
pub fn rows(project: &Project, sources: &Sources, filter: Filter<'_>) -> Vec<Row> {
    let mut rows: Vec<Row> = project
        .dags
        .iter()
        .filter(|d| filter.pattern.is_none_or(|p| glob_match(p, &d.dag_id)))
        .filter(|d| {
            filter
                .tenant
                .is_none_or(|t| d.scope.as_ref().is_some_and(|s| s.tenant == t))
        })
        .map(|d| {
            let src = sources.get(d.span.file);
            Row {
                dag_id: d.dag_id.clone(),
                file: d.path(),
                tenant: d.scope.as_ref().map(|s| s.tenant.clone()),
                schedule: match d.arg("schedule").map(|f| &f.value) {
                    None => "none".to_string(),
                    // `@daily` and cron strings read best bare.
                    Some(Value::Str(s)) => s.clone(),
                    Some(v) => value_text(v),
                },
                tasks: d.graph.node_count(),
                source: format!("{}:{}", src.name, src.line_col(d.span.start).line),
            }
        })
        .collect();
    rows.sort_by(|a, b| a.dag_id.cmp(&b.dag_id));
    rows
}

/// The rows as an aligned table with a header line.
pub fn table(rows: &[Row]) -> String {
    let header = ["DAG", "FILE", "TENANT", "SCHEDULE", "TASKS", "SOURCE"];
    let cells: Vec<[String; 6]> = rows
        .iter()
        .map(|r| {
            [
                r.dag_id.clone(),
                r.file.clone(),
                r.tenant.clone().unwrap_or_else(|| "-".into()),
                r.schedule.clone(),
                r.tasks.to_string(),
                r.source.clone(),
            ]
        })
        .collect();
    let mut widths = header.map(|h| h.chars().count());
    for row in &cells {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |cells: &[&str]| {
        let mut text = String::new();
        for (i, (cell, w)) in cells.iter().zip(widths).enumerate() {
            if i + 1 == cells.len() {
                text.push_str(cell);
            } else if i == 4 {
                // Counts read best right-aligned.
                text.push_str(&format!("{cell:>w$}  "));
            } else {
                text.push_str(&format!("{cell:<w$}  "));
            }
        }
        out.push_str(text.trim_end());
        out.push('\n');
    };
    line(&header);
    for row in &cells {
        line(&row.each_ref().map(String::as_str));
    }
    out
}

/// Whether `text` matches `pattern`, where `*` stands for any run of characters
/// (none too) and `?` for any one character. Linear in time: no backtracking blow-up
/// on patterns like `*a*a*a*b`.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti) = (0, 0);
    // The last `*` seen and the text position it was tried at.
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        match p.get(pi) {
            Some('*') => {
                star = Some((pi, ti));
                pi += 1;
            }
            Some(&c) if c == '?' || c == t[ti] => {
                pi += 1;
                ti += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    pi = sp + 1;
                    ti = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::glob_match;

    #[test]
    fn globs_match_as_shells_do() {
        assert!(glob_match("acme__*", "acme__ingest"));
        assert!(glob_match("*ingest*", "acme__ingest_v2"));
        assert!(glob_match("a?c", "abc"));
        assert!(glob_match("*", ""));
        assert!(!glob_match("acme__*", "globex__ingest"));
        assert!(!glob_match("a?c", "ac"));
        assert!(!glob_match("abc", "abcd"));
        assert!(glob_match(
            "*a*a*a*b",
            &"a".repeat(40).replace("aaaa", "aaab")
        ));
        assert!(!glob_match("*a*a*a*b", &"a".repeat(5000)));
    }
}
