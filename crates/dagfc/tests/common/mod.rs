//! What several test binaries share: the repository root and the Airflow environment.

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
