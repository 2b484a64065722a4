//! Sources outside the project's files, end to end through the `dagfc` binary: an HTTP
//! server on 127.0.0.1 that this test runs (answering, failing, hanging, answering
//! again), a SQLite database, and environments chosen by flag, variable or project file.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

fn dagfc(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_dagfc"));
    cmd.args(args)
        .arg("--color=never")
        .current_dir(dir)
        .env_remove("DAGF_ENV");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run dagfc")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn project(toml_extra: &str, files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tmp");
    std::fs::write(
        dir.path().join("dagf.toml"),
        format!("[project]\nsrc = [\"src\"]\nout = \"dags\"\n{toml_extra}"),
    )
    .expect("toml");
    std::fs::create_dir(dir.path().join("src")).expect("src");
    for (name, text) in files {
        std::fs::write(dir.path().join("src").join(name), text).expect("write");
    }
    dir
}

/// The Python files in `dags/`, sorted.
fn dag_files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir.join("dags"))
        .map(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.ends_with(".py"))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// What the test server does with the next requests.
#[derive(Clone)]
enum Mode {
    Answer(String),
    Fail(u16),
    /// Accepts and never answers (until long after the client's timeout).
    Hang,
}

/// An HTTP/1.1 server on 127.0.0.1 that counts the requests it gets.
struct Server {
    port: u16,
    mode: Arc<Mutex<Mode>>,
    requests: Arc<AtomicUsize>,
}

impl Server {
    fn start() -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let port = listener.local_addr().expect("addr").port();
        let mode = Arc::new(Mutex::new(Mode::Fail(500)));
        let requests = Arc::new(AtomicUsize::new(0));
        let (m, r) = (mode.clone(), requests.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mode = m.lock().expect("mode").clone();
                r.fetch_add(1, Ordering::SeqCst);
                std::thread::spawn(move || {
                    let mut buf = [0u8; 4096];
                    let mut got = Vec::new();
                    while !got.windows(4).any(|w| w == b"\r\n\r\n") {
                        match stream.read(&mut buf) {
                            Ok(0) | Err(_) => return,
                            Ok(n) => got.extend_from_slice(&buf[..n]),
                        }
                    }
                    let (status, body) = match mode {
                        Mode::Answer(body) => ("200 OK".to_string(), body),
                        Mode::Fail(code) => (format!("{code} Failing"), "down".to_string()),
                        Mode::Hang => {
                            std::thread::sleep(Duration::from_secs(4));
                            return;
                        }
                    };
                    let _ = write!(
                        stream,
                        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                        body.len()
                    );
                });
            }
        });
        Server {
            port,
            mode,
            requests,
        }
    }

    fn set(&self, mode: Mode) {
        *self.mode.lock().expect("mode") = mode;
    }

    fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

fn remote_project(port: u16, cache: &str) -> String {
    format!(
        r#"
type Cfg = {{ name: str matches "^[a-z]+$", retries: int in 0..=5 = 1 }}
source remote: list<Cfg> = http("http://127.0.0.1:{port}/configs", cache = {cache}, timeout = 1s)
for c in remote {{
    dag "api_${{c.name}}" {{
        default_args {{ retries = c.retries }}
        task t: empty
    }}
}}
"#
    )
}

#[test]
fn an_http_source_caches_its_answer_falls_back_when_the_server_fails_and_follows_it_again() {
    let server = Server::start();
    let dir = project("", &[("main.dagf", &remote_project(server.port, "1h"))]);
    let root = dir.path();
    let write_src = |cache: &str| {
        std::fs::write(
            root.join("src/main.dagf"),
            remote_project(server.port, cache),
        )
        .expect("write")
    };

    // No cache and a failing server: a clear error, nothing written.
    server.set(Mode::Fail(503));
    let out = dagfc(root, &["build"], &[]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("[E0505]"), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("the server answered 503"),
        "{}",
        stderr(&out)
    );
    assert!(dag_files(root).is_empty());
    assert_eq!(server.requests(), 1);

    // The server answers: the dags follow its answer, which is cached.
    server.set(Mode::Answer(r#"[{"name": "alpha"}]"#.into()));
    let out = dagfc(root, &["build"], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(dag_files(root), ["api_alpha.py"]);
    assert_eq!(server.requests(), 2);
    assert!(root.join(".dagf-cache/http").is_dir());

    // Within `cache = 1h` the cached answer is used without a request.
    server.set(Mode::Answer(r#"[{"name": "beta"}]"#.into()));
    let out = dagfc(root, &["build"], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(dag_files(root), ["api_alpha.py"]);
    assert_eq!(server.requests(), 2, "no request within the cache duration");

    // With no cache duration every build asks; a failure falls back with a warning.
    write_src("0s");
    server.set(Mode::Fail(500));
    let out = dagfc(root, &["build"], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("[W0007]"), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("the server answered 500"),
        "{}",
        stderr(&out)
    );
    assert_eq!(dag_files(root), ["api_alpha.py"]);
    assert_eq!(server.requests(), 3);

    // A server that does not answer in time is a failure too.
    server.set(Mode::Hang);
    let out = dagfc(root, &["build"], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("no answer within 1 s"),
        "{}",
        stderr(&out)
    );
    assert_eq!(dag_files(root), ["api_alpha.py"]);

    // An answer whose data is wrong is an error pointing into it, and is not cached.
    server.set(Mode::Answer(r#"[{"name": "gamma", "retries": 9}]"#.into()));
    let out = dagfc(root, &["build"], &[]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("[E0204]"), "{err}");
    assert!(err.contains("$[0].retries"), "{err}");
    assert_eq!(
        dag_files(root),
        ["api_alpha.py"],
        "a failed build changes nothing"
    );
    server.set(Mode::Fail(502));
    let out = dagfc(root, &["build"], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        dag_files(root),
        ["api_alpha.py"],
        "the cache kept the last good answer"
    );

    // An answer is data as it is: `extends` there is a field like any other, not a base.
    server.set(Mode::Answer(
        r#"{"name": "eta", "extends": "base.json"}"#.into(),
    ));
    let out = dagfc(root, &["build"], &[]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("[E0203]") && stderr(&out).contains("`extends`"),
        "{}",
        stderr(&out)
    );
    assert_eq!(dag_files(root), ["api_alpha.py"]);

    // The server answers again: the dags follow it.
    server.set(Mode::Answer(
        r#"[{"name": "beta"}, {"name": "delta"}]"#.into(),
    ));
    let out = dagfc(root, &["build"], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!stderr(&out).contains("W0007"), "{}", stderr(&out));
    assert_eq!(dag_files(root), ["api_beta.py", "api_delta.py"]);
}

#[test]
fn a_sqlite_source_keeps_the_latest_version_of_each_config() {
    let dir = project(
        "",
        &[(
            "main.dagf",
            r#"
type Cfg = { name: str, tables: list<str>, retries: int in 0..=5 = 1 }
source configs: list<Cfg> = sqlite("configs.db", "SELECT name, tables, retries, version FROM dag_configs ORDER BY name", key = "name", version = "version")
for c in configs {
    dag "db_${c.name}" {
        default_args { retries = c.retries }
        for t in c.tables { task "load_${t}": empty }
    }
}
"#,
        )],
    );
    let root = dir.path();
    let db = rusqlite::Connection::open(root.join("src/configs.db")).expect("db");
    db.execute_batch(
        "CREATE TABLE dag_configs (name TEXT, tables TEXT, retries INTEGER, version INTEGER);
         INSERT INTO dag_configs VALUES ('crm', '[\"accounts\"]', 2, 1);
         INSERT INTO dag_configs VALUES ('crm', '[\"accounts\", \"contacts\"]', 3, 2);
         INSERT INTO dag_configs VALUES ('erp', '[\"orders\"]', NULL, 1);",
    )
    .expect("fill");
    let out = dagfc(root, &["build"], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(dag_files(root), ["db_crm.py", "db_erp.py"]);
    let crm = std::fs::read_to_string(root.join("dags/db_crm.py")).expect("crm");
    assert!(
        crm.contains("load_contacts") && crm.contains("\"retries\": 3"),
        "{crm}"
    );
    let erp = std::fs::read_to_string(root.join("dags/db_erp.py")).expect("erp");
    assert!(
        erp.contains("\"retries\": 1"),
        "NULL takes the default: {erp}"
    );

    // A new version with a wrong value: the error names the row and the column.
    db.execute(
        "INSERT INTO dag_configs VALUES ('crm', '[\"accounts\"]', 8, 3)",
        [],
    )
    .expect("insert");
    let out = dagfc(root, &["build"], &[]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("[E0204]"), "{err}");
    assert!(
        err.contains("the row whose `name` is `crm` (version 3), column `retries`"),
        "{err}"
    );
    assert_eq!(dag_files(root), ["db_crm.py", "db_erp.py"]);
}

#[test]
fn the_environment_comes_from_the_flag_then_the_variable_then_the_project() {
    let src = r#"
profile dev { schedule = none, tags += ["dev"] }
profile prod { }
dag report {
    schedule = @daily
    start = 2024-01-01
    tags = ["report", if env == "prod" { "live" } else { "test" }]
    task t: empty
}
"#;
    let dir = project("default_env = \"dev\"\n", &[("main.dagf", src)]);
    let root = dir.path();
    let read = || std::fs::read_to_string(root.join("dags/report.py")).expect("report");

    let out = dagfc(root, &["build"], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let dev = read();
    assert!(
        dev.contains("schedule=None") && dev.contains(r#"tags=["report", "test", "dev"]"#),
        "{dev}"
    );

    let out = dagfc(root, &["build"], &[("DAGF_ENV", "prod")]);
    assert!(out.status.success(), "{}", stderr(&out));
    let prod = read();
    assert!(
        prod.contains(r#"schedule="@daily""#) && prod.contains(r#"tags=["report", "live"]"#),
        "{prod}"
    );

    let out = dagfc(root, &["build", "--env", "dev"], &[("DAGF_ENV", "prod")]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(read(), dev, "the flag wins over the variable");

    let out = dagfc(root, &["build", "--env", "prd"], &[]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("[E0405]") && err.contains("did you mean `prod`?"),
        "{err}"
    );
    assert!(err.contains("`dev`, `prod`"), "{err}");
    assert_eq!(read(), dev, "a failed build changes nothing");
}
