//! `dagfc new NAME`: a project that builds as it is, laid out for a team to grow: the
//! sources, a Python package for the callables the DAGs run, and a `.gitignore` for
//! what the build makes.

use std::path::Path;

/// The Python package the project's callables live in: the name as a Python
/// identifier, so that `python_callable = "PACKAGE.function"` can name it.
pub fn package(name: &str) -> String {
    let mut ident: String = name
        .chars()
        .map(|c| match c {
            'a'..='z' | '0'..='9' | '_' => c,
            'A'..='Z' => c.to_ascii_lowercase(),
            _ => '_',
        })
        .collect();
    if ident.starts_with(|c: char| c.is_ascii_digit()) {
        ident.insert_str(0, "p_");
    }
    format!("{ident}_tasks")
}

pub fn create(dir: &Path, name: &str) -> std::io::Result<()> {
    if dir.exists() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::AlreadyExists,
            format!("`{}` already exists", dir.display()),
        ));
    }
    let package = package(name);
    std::fs::create_dir_all(dir.join("src"))?;
    std::fs::create_dir_all(dir.join("python").join(&package))?;
    std::fs::write(
        dir.join("dagf.toml"),
        format!(
            "[project]\nname = \"{name}\"\nsrc = [\"src\"]\nout = \"dags\"\n\n[target]\nairflow = \"3.3\"\n"
        ),
    )?;
    std::fs::write(
        dir.join(".gitignore"),
        "# What `dagfc build` writes: built again from src/ by CI or a deploy step.\n\
         /dags/\n\
         # The last good answers of HTTP config sources.\n\
         .dagf-cache/\n\
         # A build's work folder, if a build was stopped half way.\n\
         .dagf~build*\n\
         __pycache__/\n",
    )?;
    std::fs::write(
        dir.join("src").join("pipelines.dagf"),
        format!(
            r#"/// A DAG per source system: extract, then publish.
factory ingest(
    /// Source system; part of the dag id.
    source: str matches "^[a-z][a-z0-9_]*$",
    schedule: schedule = @daily,
) {{
    schedule = schedule
    start = 2024-01-01
    tags = ["ingest", source]
    default_args {{ owner = "data", retries = 2, retry_delay = 5m }}

    task extract: bash {{ bash_command = "echo extracting ${{source}} for {{{{ ds }}}}" }}
    // A Python function of python/{package}/: the generated DAG file imports it, so
    // python/ must be on Airflow's PYTHONPATH (see README.md).
    task publish: python {{
        python_callable = "{package}.publish"
        op_kwargs = {{ source = source }}
    }}
    extract >> publish
}}

for s in ["crm", "billing"] {{
    dag "ingest_${{s}}": ingest(source = s)
}}

// Run by `dagfc test`, never by `dagfc build`: a dag made from the factory, and what
// Airflow should get.
test "ingest extracts, then publishes" {{
    dag web: ingest(source = "web", schedule = @hourly)
    assert web.task_ids == ["extract", "publish"]
    assert web.tasks.publish.upstream == ["extract"]
    assert web.schedule == "@hourly"
    assert contains(web.tags, "web")
}}

test "a source system name is checked" expect_error E0205 {{
    dag bad: ingest(source = "Web Shop")
}}
"#
        ),
    )?;
    std::fs::write(
        dir.join("python").join(&package).join("__init__.py"),
        format!(
            r#""""The Python functions the DAGs of {name} run (`python_callable = "{package}.NAME"`)."""


def publish(source: str) -> str:
    """Publishes what `extract` read from `source`."""
    message = f"publishing {{source}}"
    print(message)
    return message
"#
        ),
    )?;
    std::fs::write(
        dir.join("README.md"),
        format!(
            r#"# {name}

Airflow DAGs written in dagf.

- `src/`: the `.dagf` sources. `dagfc build` checks them and writes one Python file per
  DAG into `dags/` (`dagfc check` only checks); `dagfc test` runs their `test` blocks.
- `python/{package}/`: the Python functions the DAGs' `python` tasks call, by
  `python_callable = "{package}.FUNCTION"`. The generated DAG files import them, so
  deploy `python/` with the DAGs and put it on Airflow's `PYTHONPATH`
  (`PYTHONPATH=/path/to/{name}/python`), or copy `python/{package}` into the dags
  folder, which Airflow puts on its path.
- `dags/`: built, not edited, and not committed (see `.gitignore`); point Airflow's
  dags folder at it, or build into that folder with `dagfc build --out DIR`.
"#
        ),
    )?;
    Ok(())
}
