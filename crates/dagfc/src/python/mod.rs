//! The project's Python environment: which interpreter, which folders on PYTHONPATH,
//! and running the helper (`helper.py`, shipped inside dagfc) under a clock. This is
//! the one place dagfc starts Python; what it answers is judged by pure functions in
//! [`check`] and [`crate::verify`].

pub mod check;
pub mod operators;

use dagf_diag::{Code, Diagnostic, FileId, Span};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The helper, run as `python -c BOOT HELPER`.
const HELPER: &str = include_str!("helper.py");

/// Runs before the helper and is written so that any Python can read it: a Python 2 or
/// an old Python 3 says its version instead of failing on the helper's syntax. The
/// working directory is taken off `sys.path`, as the DAG processor does not have it.
const BOOT: &str = "import sys\n\
if sys.path and sys.path[0] == '': sys.path.pop(0)\n\
if sys.version_info[:2] < (3, 8):\n    \
sys.stdout.write('{\"not_python3\": \"%s\"}\\n' % sys.version.split()[0]); sys.exit(0)\n\
exec(compile(sys.argv[1], '<dagfc python helper>', 'exec'))\n";

/// Seconds the helper may take unless `[python] timeout` says.
const DEFAULT_TIMEOUT: u64 = 60;

/// The most the helper may write, on each stream.
const MAX_OUTPUT: u64 = 64 << 20;

/// The project's Python environment, ready to run.
#[derive(Debug, Clone)]
pub struct PyEnv {
    /// The interpreter, as found.
    pub interpreter: PathBuf,
    /// How the interpreter was named, for messages (`python3`, `.venv/bin/python`).
    pub shown: String,
    /// Where it was named in `dagf.toml`, when it was.
    pub span: Option<Span>,
    /// Folders of the project's own modules, absolute, first on PYTHONPATH.
    pub path: Vec<PathBuf>,
    /// How long one run may take.
    pub timeout: Duration,
    /// Where the timeout is set in `dagf.toml`, when it is.
    pub timeout_span: Option<Span>,
}

/// Where the interpreter is named: `--python=PATH` (relative to the working
/// directory), else `[python] interpreter` (relative to the project when it holds a
/// `/`, else a name on PATH), else `python3` on PATH.
pub fn resolve(
    flag: Option<&Path>,
    config: &dagf_driver::PythonSection,
    root: &Path,
    toml: FileId,
) -> Result<PyEnv, Box<Diagnostic>> {
    let span_of = |r: std::ops::Range<usize>| Span::new(toml, r.start, r.end);
    let (named, base, span) = match (flag, &config.interpreter) {
        (Some(p), _) => (
            p.to_string_lossy().into_owned(),
            std::env::current_dir().unwrap_or_else(|_| PathBuf::from(".")),
            None,
        ),
        (None, Some(i)) => (
            i.get_ref().clone(),
            root.to_path_buf(),
            Some(span_of(i.span())),
        ),
        (None, None) => ("python3".to_string(), root.to_path_buf(), None),
    };
    let found = if named.contains('/') {
        let p = base.join(&named);
        p.is_file().then_some(p)
    } else {
        on_path(&named)
    };
    let Some(interpreter) = found else {
        let message = format!("Python interpreter `{named}` not found");
        let help = if named.contains('/') {
            "write the path of the environment's interpreter, such as `.venv/bin/python`, relative to the project"
        } else {
            "install it, put its folder on PATH, or write its path in `[python] interpreter`"
        };
        let d = match span {
            Some(s) => Diagnostic::at(Code::E0701, s, message, "no such interpreter"),
            None => Diagnostic::new(Code::E0701, message),
        };
        return Err(Box::new(d.with_help(help)));
    };
    let path = config.path.iter().map(|p| root.join(p.get_ref())).collect();
    Ok(PyEnv {
        interpreter,
        shown: named,
        span,
        path,
        timeout: Duration::from_secs(
            config
                .timeout
                .as_ref()
                .map_or(DEFAULT_TIMEOUT, |t| *t.get_ref()),
        ),
        timeout_span: config.timeout.as_ref().map(|t| span_of(t.span())),
    })
}

/// The first executable file called `name` in a folder of PATH.
fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| is_executable(p))
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

impl PyEnv {
    /// PYTHONPATH for the project's code: its own folders, then what the caller had.
    pub fn pythonpath(&self, extra: &[&Path]) -> std::ffi::OsString {
        let inherited = std::env::var_os("PYTHONPATH");
        let mut all: Vec<PathBuf> = extra.iter().map(|p| p.to_path_buf()).collect();
        all.extend(self.path.iter().cloned());
        all.extend(inherited.iter().flat_map(std::env::split_paths));
        std::env::join_paths(all).unwrap_or_default()
    }

    /// A diagnostic about the environment as a whole, at the interpreter's line of
    /// `dagf.toml` when there is one.
    fn error(&self, code: Code, message: String, label: &str) -> Diagnostic {
        match self.span {
            Some(s) => Diagnostic::at(code, s, message, label),
            None => Diagnostic::new(code, message),
        }
    }

    /// Sends `request` to the helper and returns its answer. Every way it can go wrong
    /// (the interpreter does not start or is not Python 3, the helper crashes, prints
    /// something that is not its answer, or takes longer than the timeout) is one
    /// diagnostic; the helper is killed at the timeout, never waited for.
    pub fn ask(
        &self,
        request: &serde_json::Value,
        envs: &[(String, std::ffi::OsString)],
    ) -> Result<serde_json::Value, Box<Diagnostic>> {
        self.ask_with(request, envs, self.timeout)
            .map(|(answer, _)| answer)
    }

    /// [`PyEnv::ask`] under another clock, also giving what the helper wrote on
    /// standard error (what the project's code and Airflow printed meanwhile).
    pub fn ask_with(
        &self,
        request: &serde_json::Value,
        envs: &[(String, std::ffi::OsString)],
        timeout: Duration,
    ) -> Result<(serde_json::Value, String), Box<Diagnostic>> {
        let mut cmd = Command::new(&self.interpreter);
        cmd.arg("-c")
            .arg(BOOT)
            .arg(HELPER)
            .env("PYTHONPATH", self.pythonpath(&[]))
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .env("PYTHONIOENCODING", "utf-8");
        if envs.iter().any(|(k, _)| k == "AIRFLOW_HOME") {
            clean_airflow_env(&mut cmd);
        }
        cmd.envs(envs.iter().map(|(k, v)| (k, v)));
        let out = self.run(cmd, Some(request.to_string()), timeout)?;
        let text = String::from_utf8_lossy(&out.stdout);
        let last = text
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("");
        let answer: serde_json::Value = match serde_json::from_str(last) {
            Ok(v @ serde_json::Value::Object(_)) => v,
            _ => {
                let said = if out.success {
                    format!("it printed {}", excerpt(&text))
                } else {
                    format!(
                        "it failed: {}",
                        excerpt(&String::from_utf8_lossy(&out.stderr))
                    )
                };
                return Err(Box::new(
                    self.error(
                        Code::E0703,
                        format!("`{}` did not answer dagfc's Python helper: {said}", self.shown),
                        "this interpreter",
                    )
                    .with_help("point `[python] interpreter` (or --python) at a Python 3 interpreter, such as the project's `.venv/bin/python`"),
                ));
            }
        };
        if let Some(version) = answer.get("not_python3").and_then(|v| v.as_str()) {
            return Err(Box::new(
                self.error(
                    Code::E0701,
                    format!("`{}` is Python {version}, not Python 3.8 or later", self.shown),
                    "not Python 3",
                )
                .with_help("point `[python] interpreter` (or --python) at the Python 3 of the project's Airflow environment"),
            ));
        }
        if let Some(e) = answer.get("error").and_then(|v| v.as_str()) {
            let trace = answer.get("trace").and_then(|v| v.as_str()).unwrap_or("");
            let mut d = self
                .error(
                    Code::E0703,
                    format!("dagfc's Python helper failed in `{}`: {e}", self.shown),
                    "this interpreter",
                )
                .with_help("the environment must have Airflow installed; run the interpreter with `-c 'import airflow'` to see the problem");
            if !trace.is_empty() {
                d = d.with_note(trace.trim_end().to_string());
            }
            return Err(Box::new(d));
        }
        Ok((answer, String::from_utf8_lossy(&out.stderr).into_owned()))
    }

    /// Runs a command (this environment's interpreter, or a tool of it) under a clock;
    /// its output is kept up to a bound.
    pub fn run(
        &self,
        mut cmd: Command,
        input: Option<String>,
        timeout: Duration,
    ) -> Result<Finished, Box<Diagnostic>> {
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().map_err(|e| {
            Box::new(
                self.error(
                    Code::E0701,
                    format!("cannot run Python interpreter `{}`: {e}", self.shown),
                    "cannot run",
                )
                .with_help("point `[python] interpreter` (or --python) at an executable Python 3 interpreter"),
            )
        })?;
        if let Some(mut stdin) = child.stdin.take() {
            let text = input.unwrap_or_default();
            // A helper that never reads must not block dagfc: the write is on its own
            // thread, and a closed pipe is the helper's problem, reported from its output.
            std::thread::spawn(move || {
                let _ = stdin.write_all(text.as_bytes());
            });
        }
        let reader = |stream: Option<Box<dyn Read + Send>>| {
            let (tx, rx) = std::sync::mpsc::channel();
            std::thread::spawn(move || {
                let mut buf = Vec::new();
                if let Some(s) = stream {
                    let _ = s.take(MAX_OUTPUT).read_to_end(&mut buf);
                }
                let _ = tx.send(buf);
            });
            rx
        };
        let stdout = reader(
            child
                .stdout
                .take()
                .map(|s| Box::new(s) as Box<dyn Read + Send>),
        );
        let stderr = reader(
            child
                .stderr
                .take()
                .map(|s| Box::new(s) as Box<dyn Read + Send>),
        );
        let deadline = Instant::now() + timeout;
        let status = loop {
            match child.try_wait() {
                Ok(Some(status)) => break Some(status),
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(10));
                }
                _ => {
                    let _ = child.kill();
                    let _ = child.wait();
                    break None;
                }
            }
        };
        let Some(status) = status else {
            let d = self
                .error(
                    Code::E0702,
                    format!(
                        "Python took longer than {} s and was stopped",
                        timeout.as_secs()
                    ),
                    "this interpreter",
                )
                .with_help("a module the project names may do slow work when imported; raise `[python] timeout` (seconds) if the environment is just slow");
            let d = match self.timeout_span {
                Some(s) => d.with_label(s, "the timeout"),
                None => d,
            };
            return Err(Box::new(d));
        };
        // A process the command left behind may hold the pipes open: its output is not
        // waited for past a moment.
        let grace = Duration::from_secs(2);
        Ok(Finished {
            success: status.success(),
            stdout: stdout.recv_timeout(grace).unwrap_or_default(),
            stderr: stderr.recv_timeout(grace).unwrap_or_default(),
        })
    }
}

/// Drops the caller's Airflow settings from a command's environment, for a throwaway
/// Airflow whose settings the caller gives; AIRFLOW_CONN_ and AIRFLOW_VAR_ stay (they
/// are how connections and variables reach the dags).
pub fn clean_airflow_env(cmd: &mut Command) {
    for (k, _) in std::env::vars_os() {
        let k = k.to_string_lossy();
        if k.starts_with("AIRFLOW")
            && !k.starts_with("AIRFLOW_CONN_")
            && !k.starts_with("AIRFLOW_VAR_")
        {
            cmd.env_remove(k.as_ref());
        }
    }
}

/// What a command run to its end left.
#[derive(Debug)]
pub struct Finished {
    /// It exited with status 0.
    pub success: bool,
    /// Its standard output.
    pub stdout: Vec<u8>,
    /// Its standard error.
    pub stderr: Vec<u8>,
}

/// The last lines of a text, for a message.
pub fn excerpt(text: &str) -> String {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    match lines.len() {
        0 => "nothing".to_string(),
        n => lines[n.saturating_sub(8)..]
            .iter()
            .map(|l| l.chars().take(300).collect::<String>())
            .collect::<Vec<_>>()
            .join("\n"),
    }
}
