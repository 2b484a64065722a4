//! `dagfc new NAME`: a project that builds as it is.

use std::path::Path;

pub fn create(dir: &Path, name: &str) -> std::io::Result<()> {
    if dir.exists() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::AlreadyExists,
            format!("`{}` already exists", dir.display()),
        ));
    }
    std::fs::create_dir_all(dir.join("src"))?;
    std::fs::write(
        dir.join("dagf.toml"),
        format!(
            "[project]\nname = \"{name}\"\nsrc = [\"src\"]\nout = \"dags\"\n\n[target]\nairflow = \"3.3\"\n"
        ),
    )?;
    std::fs::write(
        dir.join("src").join("pipelines.dagf"),
        r#"/// A DAG per source system: extract, then publish.
factory ingest(
    /// Source system; part of the dag id.
    source: str matches "^[a-z][a-z0-9_]*$",
    schedule: schedule = @daily,
) {
    schedule = schedule
    start = 2024-01-01
    tags = ["ingest", source]
    default_args { owner = "data", retries = 2, retry_delay = 5m }

    task extract: bash { bash_command = "echo extracting ${source} for {{ ds }}" }
    task publish: bash { bash_command = "echo publishing ${source}" }
    extract >> publish
}

for s in ["crm", "billing"] {
    dag "ingest_${s}": ingest(source = s)
}
"#,
    )?;
    Ok(())
}
