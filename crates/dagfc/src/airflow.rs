//! A throwaway Airflow, for `dagfc verify --run` and `dagfc test --integration`: a
//! temporary home with a migrated SQLite database, the pools a build declares, and dags
//! run in it with `airflow dags test`, each run's final states read back.

use crate::python::{self, PyEnv, excerpt};
use dagf_diag::Diagnostic;
use dagf_driver::tests::RunOutcome;
use std::ffi::OsString;
use std::path::Path;
use std::time::Duration;

/// How long `airflow db migrate` and each `airflow dags test` may take at least, unless
/// the caller says otherwise.
pub const RUN_TIMEOUT: Duration = Duration::from_secs(600);

/// Why the throwaway Airflow could not be made ready.
#[derive(Debug)]
pub enum SetupError {
    /// The environment has no Airflow (`No module named 'airflow'`); the output's last lines.
    NoAirflow(String),
    /// `airflow db migrate` failed; its last lines.
    Migrate(String),
    /// `airflow pools import` failed; its last lines.
    Pools(String),
    /// Python could not be run, or took too long.
    Python(Box<Diagnostic>),
}

/// A temporary Airflow home.
#[derive(Debug)]
pub struct Home {
    dir: tempfile::TempDir,
}

impl Home {
    /// A fresh, empty home in the temporary folder.
    pub fn new(prefix: &str) -> std::io::Result<Home> {
        Ok(Home {
            dir: tempfile::Builder::new().prefix(prefix).tempdir()?,
        })
    }

    /// Where it is.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The environment of this Airflow, loading `folder`. The caller's Airflow settings
    /// are dropped (AIRFLOW_CONN_ and AIRFLOW_VAR_ stay: they are how connections and
    /// variables are given to dags), by [`python::clean_airflow_env`].
    pub fn env(&self, folder: &Path) -> Vec<(String, OsString)> {
        let home = self.path();
        vec![
            ("AIRFLOW_HOME".into(), home.into()),
            ("AIRFLOW__CORE__DAGS_FOLDER".into(), folder.into()),
            ("AIRFLOW__CORE__LOAD_EXAMPLES".into(), "False".into()),
            ("AIRFLOW__CORE__UNIT_TEST_MODE".into(), "False".into()),
            (
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN".into(),
                format!("sqlite:///{}", home.join("airflow.db").display()).into(),
            ),
            ("AIRFLOW__LOGGING__LOGGING_LEVEL".into(), "ERROR".into()),
        ]
    }

    /// `airflow ARGS...` with the environment's interpreter, in this home.
    fn command(&self, env: &PyEnv, folder: &Path, args: &[&str]) -> std::process::Command {
        let mut cmd = std::process::Command::new(&env.interpreter);
        cmd.arg("-m")
            .arg("airflow")
            .args(args)
            .current_dir(self.path())
            .env("PYTHONPATH", env.pythonpath(&[]))
            .env("PYTHONDONTWRITEBYTECODE", "1");
        python::clean_airflow_env(&mut cmd);
        let vars = self.env(folder);
        cmd.envs(vars.iter().map(|(k, v)| (k, v)));
        cmd
    }

    /// Migrates the metadata database, then imports `folder/pools.json` if there is one.
    pub fn prepare(&self, env: &PyEnv, folder: &Path, timeout: Duration) -> Result<(), SetupError> {
        let said = |f: &python::Finished| {
            format!(
                "{}{}",
                String::from_utf8_lossy(&f.stdout),
                String::from_utf8_lossy(&f.stderr)
            )
        };
        let migrated = env
            .run(self.command(env, folder, &["db", "migrate"]), None, timeout)
            .map_err(SetupError::Python)?;
        if !migrated.success {
            let text = said(&migrated);
            return Err(if text.contains("No module named airflow") {
                SetupError::NoAirflow(excerpt(&text))
            } else {
                SetupError::Migrate(excerpt(&text))
            });
        }
        self.import_pools(env, folder, timeout)
    }

    /// `airflow pools import folder/pools.json`, when the build wrote one.
    pub fn import_pools(
        &self,
        env: &PyEnv,
        folder: &Path,
        timeout: Duration,
    ) -> Result<(), SetupError> {
        let pools = folder.join(dagf_py::POOLS_FILE);
        if !pools.is_file() {
            return Ok(());
        }
        let pools = pools.to_string_lossy();
        let f = env
            .run(
                self.command(env, folder, &["pools", "import", &pools]),
                None,
                timeout,
            )
            .map_err(SetupError::Python)?;
        if f.success {
            Ok(())
        } else {
            Err(SetupError::Pools(excerpt(&format!(
                "{}{}",
                String::from_utf8_lossy(&f.stdout),
                String::from_utf8_lossy(&f.stderr)
            ))))
        }
    }

    /// Runs `dag_id` of `folder` with `airflow dags test` (through the helper, which
    /// then reads the run's final states back); `Err` when Python could not be run or
    /// took too long.
    pub fn run_dag(
        &self,
        env: &PyEnv,
        folder: &Path,
        dag_id: &str,
        timeout: Duration,
    ) -> Result<RunOutcome, Box<Diagnostic>> {
        let request = serde_json::json!({"op": "dags_test", "dag_id": dag_id});
        let (answer, log) = env.ask_with(&request, &self.env(folder), timeout)?;
        let log = excerpt(&log);
        let run = &answer["run"];
        if run.is_null() {
            return Ok(RunOutcome {
                error: Some(
                    answer["run_error"]
                        .as_str()
                        .unwrap_or("Airflow made no run")
                        .to_string(),
                ),
                log,
                ..RunOutcome::default()
            });
        }
        let tasks = run["tasks"]
            .as_object()
            .map(|o| {
                o.iter()
                    .map(|(id, states)| {
                        let states = states
                            .as_array()
                            .map(|a| {
                                a.iter()
                                    .map(|s| s.as_str().unwrap_or("none").to_string())
                                    .collect()
                            })
                            .unwrap_or_default();
                        (id.clone(), states)
                    })
                    .collect()
            })
            .unwrap_or_default();
        Ok(RunOutcome {
            state: Some(run["state"].as_str().unwrap_or("none").to_string()),
            tasks,
            error: None,
            log,
        })
    }
}
