//! What several test binaries share: the repository root, the Airflow environment and
//! the catalog's example API. (Each binary uses a part of it.)
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// The top of the repository.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("repo root")
}

/// The Python of the virtual environment with real Airflow (`tests/airflow/venv.sh`
/// makes it on first use). A missing Python or a failed install fails the test with
/// the reason: it is never skipped.
pub fn venv_python() -> PathBuf {
    let run = Command::new("bash")
        .arg(repo().join("tests/airflow/venv.sh"))
        .output()
        .expect("run bash");
    assert!(
        run.status.success(),
        "could not set up the Airflow environment (tests/airflow/venv.sh):\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let venv = String::from_utf8_lossy(&run.stdout)
        .lines()
        .last()
        .unwrap_or("")
        .trim()
        .to_string();
    let python = Path::new(&venv).join("bin/python");
    assert!(
        python.is_file(),
        "no python in the Airflow environment at {venv}"
    );
    python
}

/// The port of the configuration API the catalog's API-driven example (101.2.5) reads.
const CATALOG_API_PORT: u16 = 8765;

/// Serves `examples/catalog/api/` on 127.0.0.1, as the example's API, for as long as
/// the tests run (started once, before the first build).
pub fn catalog_api() {
    static STARTED: std::sync::OnceLock<()> = std::sync::OnceLock::new();
    STARTED.get_or_init(|| {
        use std::io::{BufRead, BufReader, Write};
        let listener = std::net::TcpListener::bind(("127.0.0.1", CATALOG_API_PORT))
            .unwrap_or_else(|e| {
                panic!("cannot serve the catalog's example API on 127.0.0.1:{CATALOG_API_PORT} ({e}); the API-driven example (101.2.5) reads it: free the port")
            });
        let root = repo().join("examples/catalog/api");
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut request = String::new();
                {
                    let mut reader = BufReader::new(&stream);
                    if reader.read_line(&mut request).is_err() {
                        continue;
                    }
                    // Headers end with an empty line.
                    let mut line = String::new();
                    while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                        line.clear();
                    }
                }
                let path = request.split_whitespace().nth(1).unwrap_or("/");
                let file = root.join(path.trim_start_matches('/'));
                let safe = !path.contains("..");
                let (status, body) = match std::fs::read(&file) {
                    Ok(b) if safe && file.is_file() => ("200 OK", b),
                    _ => ("404 Not Found", b"not found".to_vec()),
                };
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = stream.write_all(&body);
            }
        });
    });
}
