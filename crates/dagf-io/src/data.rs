//! The outside world behind config sources: SQLite databases (opened read-only) and
//! HTTP servers, with the last good answer of each URL kept in the project's cache
//! folder (`.dagf-cache/http/`).

use dagf_sema::{Cached, Cell, HttpError, HttpLimits, SqlError, SqlLimit, SqlLimits, Table};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The cache folder, relative to the project root.
pub const CACHE_DIR: &str = ".dagf-cache";

/// Runs `query` on the database at `path`, opened read-only (never created), within
/// `limits`: SQLite checks the clock as it runs (a recursive query that never ends is
/// stopped), no one value may be larger than `max_bytes` (SQLite refuses to make it),
/// and the rows are counted, and their bytes, as they come.
pub fn query(path: &Path, query: &str, limits: &SqlLimits) -> Result<Table, SqlError> {
    use rusqlite::{Connection, OpenFlags, limits::Limit, types::ValueRef};
    let meta =
        std::fs::metadata(path).map_err(|_| SqlError::Open("there is no such file".to_string()))?;
    if let Some(what) = crate::not_a_file(&meta) {
        return Err(SqlError::NotAFile(what));
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
    let max_value = i32::try_from(limits.max_bytes).unwrap_or(i32::MAX);
    conn.set_limit(Limit::SQLITE_LIMIT_LENGTH, max_value)
        .map_err(|e| SqlError::Open(e.to_string()))?;
    // Sorting or grouping a query's rows takes memory SQLite counts against this
    // (the process's only SQLite use); past it, the query fails instead of the build.
    let heap = limits.max_bytes.saturating_mul(4).max(256 << 20);
    conn.execute_batch(&format!("PRAGMA hard_heap_limit = {heap}"))
        .map_err(|e| SqlError::Open(e.to_string()))?;
    let started = Instant::now();
    let timeout = limits.timeout;
    let out_of_time = Arc::new(AtomicBool::new(false));
    let flag = out_of_time.clone();
    conn.progress_handler(
        10_000,
        Some(move || {
            let over = started.elapsed() > timeout;
            if over {
                flag.store(true, Ordering::Relaxed);
            }
            over
        }),
    );
    let failed = |e: rusqlite::Error| {
        if out_of_time.load(Ordering::Relaxed) {
            return SqlError::Limit(SqlLimit::Time);
        }
        if let rusqlite::Error::SqliteFailure(f, _) = &e
            && f.code == rusqlite::ErrorCode::TooBig
        {
            return SqlError::Limit(SqlLimit::Bytes);
        }
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
    let mut size: u64 = 0;
    let mut cursor = stmt.query([]).map_err(failed)?;
    loop {
        let row = match cursor.next() {
            Ok(Some(r)) => r,
            Ok(None) => break,
            Err(e) => return Err(failed(e)),
        };
        if rows.len() as u64 >= limits.max_rows {
            return Err(SqlError::Limit(SqlLimit::Rows));
        }
        let mut cells = Vec::with_capacity(n);
        for i in 0..n {
            let cell = match row.get_ref(i) {
                Ok(ValueRef::Null) | Err(_) => Cell::Null,
                Ok(ValueRef::Integer(v)) => Cell::Int(v),
                Ok(ValueRef::Real(v)) => Cell::Real(v),
                Ok(ValueRef::Text(t)) => {
                    size += t.len() as u64;
                    if size > limits.max_bytes {
                        return Err(SqlError::Limit(SqlLimit::Bytes));
                    }
                    Cell::Text(String::from_utf8_lossy(t).into_owned())
                }
                Ok(ValueRef::Blob(b)) => {
                    size += b.len() as u64;
                    Cell::Blob
                }
            };
            size += 8;
            if size > limits.max_bytes {
                return Err(SqlError::Limit(SqlLimit::Bytes));
            }
            cells.push(cell);
        }
        rows.push(cells);
    }
    Ok(Table { columns, rows })
}

/// The body of a GET of `url`; anything but a 2xx answer, within the time and size
/// `limits`, is an error. The time covers the whole exchange: a server that sends its
/// answer slowly for ever is cut off as surely as one that never answers.
pub fn get(url: &str, limits: &HttpLimits) -> Result<Vec<u8>, HttpError> {
    let timeout = limits.timeout;
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .http_status_as_error(true)
        .build()
        .into();
    let failed = |e: ureq::Error| match e {
        ureq::Error::StatusCode(code) => HttpError::Failed(format!("the server answered {code}")),
        ureq::Error::Timeout(_) => {
            HttpError::Failed(format!("no answer within {}", seconds(timeout)))
        }
        ureq::Error::ConnectionFailed => {
            HttpError::Failed("cannot connect to the server".to_string())
        }
        ureq::Error::Io(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
            HttpError::Failed("the server refused the connection".to_string())
        }
        ureq::Error::BodyExceedsLimit(_) => HttpError::TooLarge {
            limit: limits.max_bytes,
        },
        e => HttpError::Failed(format!("cannot read the answer: {e}")),
    };
    let mut answer = agent.get(url).call().map_err(failed)?;
    answer
        .body_mut()
        .with_config()
        .limit(limits.max_bytes)
        .read_to_vec()
        .map_err(failed)
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
