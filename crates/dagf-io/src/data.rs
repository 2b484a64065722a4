//! The outside world behind config sources: SQLite databases (opened read-only) and
//! HTTP servers, with the last good answer of each URL kept in the project's cache
//! folder (`.dagf-cache/http/`).

use dagf_sema::{Cached, Cell, SqlError, Table};
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The cache folder, relative to the project root.
pub const CACHE_DIR: &str = ".dagf-cache";

/// Runs `query` on the database at `path`, opened read-only (never created).
pub fn query(path: &Path, query: &str) -> Result<Table, SqlError> {
    use rusqlite::{Connection, OpenFlags, types::ValueRef};
    if !path.is_file() {
        return Err(SqlError::Open("there is no such file".to_string()));
    }
    // Every SQLite database starts with this header (an empty file is an empty one).
    let mut head = [0u8; 16];
    let read = std::fs::File::open(path)
        .and_then(|mut f| std::io::Read::read(&mut f, &mut head))
        .map_err(|e| SqlError::Open(e.to_string()))?;
    if read > 0 && head[..read] != b"SQLite format 3\0"[..read] {
        return Err(SqlError::Open(
            "the file is not a SQLite database".to_string(),
        ));
    }
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(|e| SqlError::Open(e.to_string()))?;
    let failed = |e: rusqlite::Error| {
        let tables = conn
            .prepare("SELECT name FROM sqlite_master WHERE type IN ('table', 'view') ORDER BY name")
            .and_then(|mut s| {
                s.query_map([], |r| r.get::<_, String>(0))?
                    .collect::<Result<Vec<_>, _>>()
            })
            .unwrap_or_default();
        let (message, offset) = match e {
            rusqlite::Error::SqliteFailure(_, Some(m)) => (m, None),
            rusqlite::Error::SqlInputError { msg, offset, .. } => {
                (msg, usize::try_from(offset).ok())
            }
            e => (e.to_string(), None),
        };
        SqlError::Query {
            message,
            tables,
            offset,
        }
    };
    let mut stmt = conn.prepare(query).map_err(failed)?;
    let columns: Vec<String> = stmt.column_names().iter().map(|c| c.to_string()).collect();
    let n = columns.len();
    let mut rows = Vec::new();
    let mut cursor = stmt.query([]).map_err(failed)?;
    loop {
        let row = match cursor.next() {
            Ok(Some(r)) => r,
            Ok(None) => break,
            Err(e) => return Err(failed(e)),
        };
        let mut cells = Vec::with_capacity(n);
        for i in 0..n {
            cells.push(match row.get_ref(i) {
                Ok(ValueRef::Null) | Err(_) => Cell::Null,
                Ok(ValueRef::Integer(v)) => Cell::Int(v),
                Ok(ValueRef::Real(v)) => Cell::Real(v),
                Ok(ValueRef::Text(t)) => Cell::Text(String::from_utf8_lossy(t).into_owned()),
                Ok(ValueRef::Blob(_)) => Cell::Blob,
            });
        }
        rows.push(cells);
    }
    Ok(Table { columns, rows })
}

/// The body of a GET of `url`; anything but a 2xx answer within `timeout` is an error.
pub fn get(url: &str, timeout: Duration) -> Result<String, String> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .http_status_as_error(true)
        .build()
        .into();
    let mut answer = agent.get(url).call().map_err(|e| match e {
        ureq::Error::StatusCode(code) => format!("the server answered {code}"),
        ureq::Error::Timeout(_) => format!("no answer within {}", seconds(timeout)),
        ureq::Error::ConnectionFailed => "cannot connect to the server".to_string(),
        ureq::Error::Io(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
            "the server refused the connection".to_string()
        }
        e => e.to_string(),
    })?;
    answer
        .body_mut()
        .read_to_string()
        .map_err(|e| format!("cannot read the answer: {e}"))
}

fn seconds(d: Duration) -> String {
    format!("{} s", d.as_secs_f64())
}

/// The cache file of a URL: named by a stable hash of it.
fn cache_file(root: &Path, url: &str) -> std::path::PathBuf {
    root.join(CACHE_DIR)
        .join("http")
        .join(format!("{}.json", dagf_sema::stable_hash(&[url])))
}

/// The cached answer for `url`, if any, and its age.
pub fn cache_read(root: &Path, url: &str) -> Option<Cached> {
    let text = std::fs::read_to_string(cache_file(root, url)).ok()?;
    let entry: serde_json::Value = serde_json::from_str(&text).ok()?;
    if entry["url"].as_str() != Some(url) {
        return None;
    }
    let fetched = UNIX_EPOCH + Duration::from_secs(entry["fetched_at"].as_u64()?);
    let age = SystemTime::now()
        .duration_since(fetched)
        .unwrap_or_default();
    Some(Cached {
        body: entry["body"].as_str()?.to_string(),
        age,
    })
}

/// Keeps `body` as the last good answer for `url`, written whole or not at all.
pub fn cache_write(root: &Path, url: &str, body: &str) -> Result<(), String> {
    let file = cache_file(root, url);
    let dir = file.parent().unwrap_or(root);
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    let entry = serde_json::json!({ "url": url, "fetched_at": now, "body": body });
    let tmp = file.with_extension("json.tmp");
    std::fs::write(&tmp, entry.to_string()).map_err(|e| e.to_string())?;
    std::fs::rename(&tmp, &file).map_err(|e| e.to_string())
}
