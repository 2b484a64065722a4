//! Hostile and careless input, through the real `dagfc` process: named pipes, devices
//! and folders where files are expected, SQLite queries that never end or make huge
//! values, HTTP servers that send for ever. Each run must end with a clear error within
//! a time limit (the test kills it otherwise) and within a bound on its peak memory,
//! read from `/proc` while it runs.

#![cfg(unix)]

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// What one `dagfc check` did: its exit code, stderr, how long it ran and its peak
/// resident memory (in MiB, when the system says).
struct Run {
    code: Option<i32>,
    stderr: String,
    took: Duration,
    peak_mib: Option<u64>,
}

/// The peak resident memory of a running process, in KiB (`VmHWM`).
fn peak_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Runs `dagfc check` in `dir`; kills it and fails the test if it takes longer than
/// `limit`.
fn check_within(dir: &Path, limit: Duration) -> Run {
    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_dagfc"))
        .args(["check", "--color", "never"])
        .current_dir(dir)
        .env_remove("DAGF_ENV")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run dagfc");
    let mut stderr = child.stderr.take().expect("stderr");
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let mut peak = None;
    let status = loop {
        if let Some(kib) = peak_kib(child.id()) {
            peak = Some(peak.map_or(kib, |p: u64| p.max(kib)));
        }
        match child.try_wait().expect("wait") {
            Some(status) => break status,
            None if started.elapsed() > limit => {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "dagfc check in {} ran longer than {limit:?}: it blocked or hung",
                    dir.display()
                );
            }
            None => std::thread::sleep(Duration::from_millis(5)),
        }
    };
    let took = started.elapsed();
    Run {
        code: status.code(),
        stderr: reader.join().expect("stderr reader"),
        took,
        peak_mib: peak.map(|k| k / 1024),
    }
}

/// A project with `src/` holding these files.
fn project(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tmp");
    std::fs::write(dir.path().join("dagf.toml"), "[project]\nsrc = [\"src\"]\n").expect("toml");
    for (name, text) in files {
        let path = dir.path().join("src").join(name);
        std::fs::create_dir_all(path.parent().expect("folder")).expect("mkdir");
        std::fs::write(path, text).expect("write");
    }
    dir
}

fn mkfifo(path: &Path) {
    std::fs::create_dir_all(path.parent().expect("folder")).expect("mkdir");
    let ok = Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("mkfifo runs")
        .success();
    assert!(ok, "mkfifo {}", path.display());
}

/// Says what a run did, for messages and for the report of figures.
fn shown(what: &str, run: &Run) -> String {
    format!(
        "{what}: exit {:?} in {:.2?}, peak {} MiB\n{}",
        run.code,
        run.took,
        run.peak_mib.map_or("?".to_string(), |m| m.to_string()),
        run.stderr
    )
}

const TYPE: &str = "type Cfg = { name: str }\n";

/// A project's files, what to add beside them (a pipe, a link), and the code and words
/// the error must have.
type Case = (
    &'static str,
    Vec<(&'static str, &'static str)>,
    Box<dyn Fn(&Path)>,
    &'static str,
    &'static str,
);

#[test]
fn named_pipes_and_devices_are_refused_not_read() {
    let cases: Vec<Case> = vec![
        (
            "an imported named pipe",
            vec![(
                "main.dagf",
                "import \"../shared/lib.dagf\"\ndag d { task t: empty }\n",
            )],
            Box::new(|root: &Path| mkfifo(&root.join("shared/lib.dagf"))),
            "[E0506]",
            "`shared/lib.dagf`: it is a named pipe, not a file",
        ),
        (
            "a named pipe among the source files",
            vec![("main.dagf", "dag d { task t: empty }\n")],
            Box::new(|root: &Path| mkfifo(&root.join("src/pipe.dagf"))),
            "[E0506]",
            "`src/pipe.dagf`: it is a named pipe, not a file",
        ),
        (
            "a named pipe matched by a config source's `*`",
            vec![
                (
                    "main.dagf",
                    "type Cfg = { name: str }\nsource cfgs: list<Cfg> = yaml(\"configs/*.yaml\")\nfor c in cfgs { dag \"d_${c.name}\" { task t: empty } }\n",
                ),
                ("configs/crm.yaml", "name: crm\n"),
            ],
            Box::new(|root: &Path| mkfifo(&root.join("src/configs/live.yaml"))),
            "[E0506]",
            "`src/configs/live.yaml`: it is a named pipe, not a file",
        ),
        (
            "a named pipe as a base document",
            vec![
                (
                    "main.dagf",
                    "type Cfg = { name: str }\nsource cfgs: list<Cfg> = yaml(\"configs/*.yaml\")\nfor c in cfgs { dag \"d_${c.name}\" { task t: empty } }\n",
                ),
                ("configs/crm.yaml", "extends: base.yml\nname: crm\n"),
            ],
            Box::new(|root: &Path| mkfifo(&root.join("src/configs/base.yml"))),
            "[E0506]",
            "it is a named pipe, not a file",
        ),
        (
            "a named pipe as a SQLite database",
            vec![(
                "main.dagf",
                "type Cfg = { name: str }\nsource cfgs: list<Cfg> = sqlite(\"pipe.db\", \"SELECT 'a' AS name\")\nfor c in cfgs { dag \"d_${c.name}\" { task t: empty } }\n",
            )],
            Box::new(|root: &Path| mkfifo(&root.join("src/pipe.db"))),
            "[E0506]",
            "`src/pipe.db`: it is a named pipe, not a file",
        ),
        (
            "/dev/zero through a link",
            vec![(
                "main.dagf",
                "type Cfg = { name: str }\nsource cfgs: list<Cfg> = json(\"zero.json\")\nfor c in cfgs { dag \"d_${c.name}\" { task t: empty } }\n",
            )],
            Box::new(|root: &Path| {
                std::os::unix::fs::symlink("/dev/zero", root.join("src/zero.json"))
                    .expect("symlink")
            }),
            "[E0506]",
            "`src/zero.json`: it is a device, not a file",
        ),
        (
            "/dev/zero by a path out of the project",
            vec![(
                "main.dagf",
                "type Cfg = { name: str }\nsource cfgs: list<Cfg> = yaml(\"../../../../../../../../../../dev/zero\")\nfor c in cfgs { dag \"d_${c.name}\" { task t: empty } }\n",
            )],
            Box::new(|_: &Path| {}),
            "[E0506]",
            "it is a device, not a file",
        ),
        (
            "a folder imported",
            vec![
                (
                    "main.dagf",
                    "import \"lib.dagf\"\ndag d { task t: empty }\n",
                ),
                ("lib.dagf/readme.txt", "not a source"),
            ],
            Box::new(|_: &Path| {}),
            "[E0506]",
            "`src/lib.dagf`: it is a folder, not a file",
        ),
    ];
    for (what, files, make, code, says) in cases {
        let dir = project(&files);
        make(dir.path());
        let run = check_within(dir.path(), Duration::from_secs(20));
        let text = shown(what, &run);
        eprintln!("{text}");
        assert_eq!(run.code, Some(1), "{text}");
        assert!(run.stderr.contains(code), "{text}");
        assert!(run.stderr.contains(says), "{text}");
        // One mistake, one error.
        assert!(run.stderr.contains("error: 1 error"), "{text}");
    }
}

/// A SQLite database with one small table, and a project whose sources query it.
fn sqlite_project(sources: &str) -> tempfile::TempDir {
    let dir = project(&[(
        "main.dagf",
        &format!("{TYPE}{sources}dag d {{ task t: empty }}\n"),
    )]);
    rusqlite::Connection::open(dir.path().join("src/configs.db"))
        .and_then(|c| {
            c.execute_batch("CREATE TABLE configs (name TEXT); INSERT INTO configs VALUES ('crm');")
        })
        .expect("database");
    dir
}

/// Peak memory a run may take, in MiB: generous (a debug build, a small project),
/// far below what reading the data whole would take.
const MEMORY_BOUND_MIB: u64 = 400;

#[test]
fn sqlite_queries_are_stopped_at_their_time_row_and_byte_bounds() {
    let cases = [
        (
            "a recursive query that never ends",
            "source s: list<Cfg> = sqlite(\"configs.db\", \"WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT n AS name FROM r\")\n",
            "gave more than 100000 rows",
        ),
        (
            "a recursive query that never gives a row",
            "source s: list<Cfg> = sqlite(\"configs.db\", \"WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT count(*) AS name FROM r\")\n",
            "ran longer than 5 s",
        ),
        (
            "a 400 MB blob",
            "source s: list<Cfg> = sqlite(\"configs.db\", \"SELECT zeroblob(400000000) AS name\")\n",
            "more than 64 MiB of data",
        ),
        (
            "a 400 MB text",
            "source s: list<Cfg> = sqlite(\"configs.db\", \"SELECT hex(zeroblob(200000000)) AS name\")\n",
            "more than 64 MiB of data",
        ),
        (
            "a text doubled until it is huge",
            "source s: list<Cfg> = sqlite(\"configs.db\", \"WITH RECURSIVE d(x, n) AS (SELECT 'x', 0 UNION ALL SELECT x || x, n + 1 FROM d WHERE n < 40) SELECT x AS name FROM d\")\n",
            "more than 64 MiB of data",
        ),
        (
            "a query stopped at its own bound",
            "source s: list<Cfg> = sqlite(\"configs.db\", \"WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT count(*) AS name FROM r\", timeout = 1s)\n",
            "ran longer than 1 s",
        ),
    ];
    for (what, source, says) in cases {
        let dir = sqlite_project(source);
        let run = check_within(dir.path(), Duration::from_secs(30));
        let text = shown(what, &run);
        eprintln!("{text}");
        assert_eq!(run.code, Some(1), "{text}");
        assert!(run.stderr.contains("[E0507]"), "{text}");
        assert!(run.stderr.contains(says), "{text}");
        assert!(run.stderr.contains("error: 1 error"), "{text}");
        if let Some(mib) = run.peak_mib {
            assert!(mib < MEMORY_BOUND_MIB, "{text}");
        }
    }
}

/// An HTTP server on 127.0.0.1 that answers every request with a `200` whose body goes
/// on for ever (or says it is 2 GB long), `pause` between chunks.
fn endless_server(claims_length: bool, pause: Duration) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                let mut got = Vec::new();
                while !got.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buf) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => got.extend_from_slice(&buf[..n]),
                    }
                }
                let length = if claims_length {
                    "Content-Length: 2000000000\r\n"
                } else {
                    ""
                };
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n{length}Connection: close\r\n\r\n["
                );
                if stream.write_all(head.as_bytes()).is_err() {
                    return;
                }
                let chunk = "{\"name\": \"crm\"},".repeat(4096);
                // Until the client hangs up.
                while stream.write_all(chunk.as_bytes()).is_ok() {
                    if !pause.is_zero() {
                        std::thread::sleep(pause);
                    }
                }
            });
        }
    });
    port
}

#[test]
fn http_answers_are_cut_off_at_their_byte_and_time_bounds() {
    let endless = endless_server(false, Duration::ZERO);
    let two_gb = endless_server(true, Duration::ZERO);
    let slow = endless_server(false, Duration::from_millis(200));
    let cases = [
        (
            "an answer that never ends",
            format!("http(\"http://127.0.0.1:{endless}/configs\")"),
            "[E0507]",
            "the answer is larger than 64 MiB",
        ),
        (
            "an answer of 2 GB",
            format!("http(\"http://127.0.0.1:{two_gb}/configs\")"),
            "[E0507]",
            "the answer is larger than 64 MiB",
        ),
        (
            "an answer over its own bound",
            format!("http(\"http://127.0.0.1:{endless}/configs\", max_bytes = 1_000_000)"),
            "[E0507]",
            "the answer is larger than 1000000 bytes",
        ),
        (
            "an answer that trickles for ever",
            format!("http(\"http://127.0.0.1:{slow}/configs\", timeout = 2s)"),
            "[E0505]",
            "no answer within 2 s",
        ),
    ];
    for (what, source, code, says) in cases {
        let dir = project(&[(
            "main.dagf",
            &format!(
                "{TYPE}source s: list<Cfg> = {source}\nfor c in s {{ dag \"d_${{c.name}}\" {{ task t: empty }} }}\n"
            ),
        )]);
        let run = check_within(dir.path(), Duration::from_secs(30));
        let text = shown(what, &run);
        eprintln!("{text}");
        assert_eq!(run.code, Some(1), "{text}");
        assert!(run.stderr.contains(code), "{text}");
        assert!(run.stderr.contains(says), "{text}");
        assert!(run.stderr.contains("error: 1 error"), "{text}");
        if let Some(mib) = run.peak_mib {
            assert!(mib < MEMORY_BOUND_MIB, "{text}");
        }
    }
}

#[test]
fn files_that_are_not_utf8_are_errors_at_their_first_bad_byte() {
    let dir = project(&[(
        "main.dagf",
        "import \"lib.dagf\"\ndag d { task t: empty }\n",
    )]);
    std::fs::write(
        dir.path().join("src/lib.dagf"),
        b"let a = 1\nlet caf\xe9 = 2\n",
    )
    .expect("write");
    let run = check_within(dir.path(), Duration::from_secs(20));
    let text = shown("a Latin-1 source", &run);
    assert_eq!(run.code, Some(1), "{text}");
    assert!(run.stderr.contains("[E0005]"), "{text}");
    // Line 2, column 8: the byte after `let caf`.
    assert!(run.stderr.contains("src/lib.dagf:2:8"), "{text}");
    assert!(run.stderr.contains("0xE9"), "{text}");
    assert!(run.stderr.contains("error: 1 error"), "{text}");
}
