//! What several test binaries share: the repository root, the Airflow environment and
//! the catalog's example API. (Each binary uses a part of it.)
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// Every example project (a folder of `examples/` with a `dagf.toml`), in name order.
pub fn examples() -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(repo().join("examples"))
        .expect("examples folder")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("dagf.toml").is_file())
        .collect();
    out.sort();
    assert!(
        out.len() >= 5,
        "expected at least five example projects, found {out:?}"
    );
    out
}

/// `dagfc build ARGS --project PROJECT --out OUT`, which must succeed.
pub fn build_into(project: &Path, out: &Path, args: &[&str]) {
    let run = Command::new(env!("CARGO_BIN_EXE_dagfc"))
        .env_remove("DAGF_ENV")
        .args(["build", "--color", "never"])
        .args(args)
        .arg("--project")
        .arg(project)
        .arg("--out")
        .arg(out)
        .output()
        .expect("run dagfc");
    assert!(
        run.status.success(),
        "build failed:\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
}

/// `dagfc ARGS --project examples/catalog`, with the catalog's example API serving.
pub fn dagfc_catalog(args: &[&str]) -> std::process::Output {
    catalog_api();
    Command::new(env!("CARGO_BIN_EXE_dagfc"))
        .env_remove("DAGF_ENV")
        .args(args)
        .arg("--project")
        .arg(repo().join("examples/catalog"))
        .output()
        .expect("run dagfc")
}

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
    make_venv(&[])
}

/// The Python of the virtual environment with Airflow `version` (2.11, 3.0, 3.1 or
/// 3.2; `tests/airflow/venv.sh X.Y` makes it from `requirements-X.Y.txt` on first use,
/// at `target/airflow-venv-X.Y` or `DAGF_AIRFLOW_VENV_X_Y`). Never skipped either.
pub fn venv_python_for(version: &str) -> PathBuf {
    make_venv(&[version])
}

fn make_venv(args: &[&str]) -> PathBuf {
    let run = Command::new("bash")
        .arg(repo().join("tests/airflow/venv.sh"))
        .args(args)
        .output()
        .expect("run bash");
    assert!(
        run.status.success(),
        "could not set up the Airflow environment (tests/airflow/venv.sh {}):\n{}",
        args.join(" "),
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

/// Whether what listens on the API's port answers with `examples/catalog/api/`'s file.
fn serves_catalog_api() -> bool {
    use std::io::{Read, Write};
    let path = "v1/pipelines.json";
    let Ok(want) = std::fs::read(repo().join("examples/catalog/api").join(path)) else {
        return false;
    };
    let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", CATALOG_API_PORT)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(std::time::Duration::from_secs(5)));
    let request = format!("GET /{path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    let mut answer = Vec::new();
    if stream.write_all(request.as_bytes()).is_err() || stream.read_to_end(&mut answer).is_err() {
        return false;
    }
    answer.starts_with(b"HTTP/1.")
        && answer
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .is_some_and(|at| answer[at + 4..] == want[..])
}

/// Serves `examples/catalog/api/` on 127.0.0.1, as the example's API, for as long as
/// the tests run (started once, before the first build).
pub fn catalog_api() {
    static STARTED: std::sync::OnceLock<()> = std::sync::OnceLock::new();
    STARTED.get_or_init(|| {
        use std::io::{BufRead, BufReader, Write};
        let listener = match std::net::TcpListener::bind(("127.0.0.1", CATALOG_API_PORT)) {
            Ok(l) => l,
            // Another test binary (or `scripts/build-examples.sh`) serving the very same
            // answer is as good as this one.
            Err(_) if serves_catalog_api() => return,
            Err(e) => panic!(
                "cannot serve the catalog's example API on 127.0.0.1:{CATALOG_API_PORT} ({e}); the API-driven example (101.2.5) reads it: free the port"
            ),
        };
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

/// A `--message-format json` stream: every line a JSON object, the diagnostics
/// (`"type": "diagnostic"`) and then exactly one summary (`"type": "summary"`), last.
/// Panics, naming the stream, when it is anything else.
pub fn json_messages(stream: &[u8]) -> (Vec<serde_json::Value>, serde_json::Value) {
    let text = String::from_utf8_lossy(stream);
    let mut objects: Vec<serde_json::Value> = text
        .lines()
        .map(|l| {
            serde_json::from_str(l)
                .unwrap_or_else(|e| panic!("not a JSON line ({e}): {l}\nin:\n{text}"))
        })
        .collect();
    let summary = objects
        .pop()
        .unwrap_or_else(|| panic!("no summary object in:\n{text}"));
    assert_eq!(summary["type"], "summary", "the last line:\n{text}");
    for d in &objects {
        assert_eq!(
            d["type"], "diagnostic",
            "a line before the summary:\n{text}"
        );
    }
    (objects, summary)
}
