"""Load generated DAG files with the Airflow version of the running venv (2.11 to 3.3).

Run with the Python of a venv made by venv.sh:

    targets.py --dags ROOT --json OUT.json [--run FILE.py:DAG_ID]

ROOT holds one folder per example project, each the output of `dagfc build --target
X.Y`; helper modules come from PYTHONPATH. In this one process, each folder is loaded
with the version's own DagBag (one bag per folder, as each is a DAG folder of its own):
a file that does not import, a warning raised from a generated file, or a DAG that does
not serialize and deserialize with the same tasks and edges is a failure. With
`--run`, that one file is copied into a fresh DAG folder and its DAG is run with
`airflow db migrate` and `airflow dags test`, which must end in success.

The JSON summary has, per folder, every DAG's tasks, edges and timetable class, so the
caller can compare versions. The last line printed is `targets: N dags, M failures`;
the exit status is non-zero when anything failed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dags", required=True)
    parser.add_argument("--json", required=True)
    parser.add_argument("--run", help="FILE.py:DAG_ID, a file under ROOT and its DAG")
    args = parser.parse_args()
    root = Path(args.dags).resolve()

    failures: list[str] = []
    home = Path(tempfile.mkdtemp(prefix="dagf-airflow-home-"))
    env = airflow_env(home, home / "run")
    # Airflow reads its configuration when first imported.
    os.environ.clear()
    os.environ.update(env)
    os.environ["AIRFLOW__LOGGING__LOGGING_LEVEL"] = "CRITICAL"
    sys.dont_write_bytecode = True

    import airflow

    version = tuple(int(x) for x in airflow.__version__.split(".")[:2])
    started = time.monotonic()
    folders = {}
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        loaded = [load(folder, path, name, version, failures) for name, path in bundles(folder)]
        folders[folder.name] = {
            "dags": {k: v for one in loaded for k, v in one.items()},
            "files": sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*.py")),
        }
    n = sum(len(f["dags"]) for f in folders.values())
    print(f"airflow {airflow.__version__}: loaded {n} dags in {time.monotonic() - started:.1f}s")

    run = None
    if args.run:
        started = time.monotonic()
        run = run_dag(root, args.run, version, env, home, failures)
        print(f"ran {args.run}: {run['state']} in {time.monotonic() - started:.1f}s")

    summary = {
        "airflow_version": airflow.__version__,
        "folders": folders,
        "run": run,
        "failures": failures,
    }
    Path(args.json).write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n")
    shutil.rmtree(home, ignore_errors=True)
    print(f"targets: {n} dags, {len(failures)} failures")
    return 1 if failures else 0


def airflow_env(home: Path, dags_folder: Path) -> dict[str, str]:
    """A throwaway Airflow in `home`; Airflow settings of the caller are dropped."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(dags_folder),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
            # 2.11 warns about its timer unit on every start unless told.
            "AIRFLOW__METRICS__TIMER_UNIT_CONSISTENCY": "True",
            "PYTHONDONTWRITEBYTECODE": "1",
        }
    )
    return env


def fail(failures: list[str], message: str) -> None:
    failures.append(message)
    print(f"FAIL {message}")


def bundles(folder: Path) -> list[tuple[str, Path]]:
    """The bundles of a build: the whole folder, then each team's folder that the
    build's airflow-bundles.json names (their paths are where the folder is deployed,
    so they are taken relative to the first one, the whole folder's). The whole
    folder's `.airflowignore` keeps the teams' folders out of its own bundle."""
    listed = folder / "airflow-bundles.json"
    if not listed.is_file():
        return [("dags-folder", folder)]
    config = json.loads(listed.read_text())
    top = Path(config[0]["kwargs"]["path"])
    return [(b["name"], folder / Path(b["kwargs"]["path"]).relative_to(top)) for b in config]


def load(top: Path, folder: Path, bundle: str, version: tuple, failures: list[str]) -> dict:
    """Loads one bundle of a build (`folder`, inside the build's folder `top`) with the
    version's DagBag; serializes every DAG."""
    with warnings.catch_warnings(record=True) as caught:
        # "always": the default filters hide DeprecationWarning outside __main__.
        warnings.simplefilter("always")
        if version >= (3, 2):
            from airflow.dag_processing.dagbag import BundleDagBag
            from airflow.serialization.serialized_objects import DagSerialization as Ser

            bag = BundleDagBag(dag_folder=folder, bundle_path=folder, bundle_name=bundle)
        elif version >= (3, 1):
            from airflow.models.dagbag import BundleDagBag
            from airflow.serialization.serialized_objects import SerializedDAG as Ser

            bag = BundleDagBag(dag_folder=folder, bundle_path=folder)
        elif version >= (3, 0):
            from airflow.models.dagbag import DagBag
            from airflow.serialization.serialized_objects import SerializedDAG as Ser

            # What the 3.0 DAG processor does, and its DagBag does not.
            sys.path.append(str(folder))
            bag = DagBag(dag_folder=folder, include_examples=False, bundle_path=folder)
        else:
            from airflow.models.dagbag import DagBag
            from airflow.serialization.serialized_objects import SerializedDAG as Ser

            bag = DagBag(dag_folder=str(folder), include_examples=False)
        dags = {}
        for dag_id, dag in sorted(bag.dags.items()):
            try:
                restored = Ser.from_dict(Ser.to_dict(dag))
                if edges(restored) != edges(dag) or sorted(restored.task_ids) != sorted(
                    dag.task_ids
                ):
                    raise ValueError("tasks or edges changed in the round trip")
            except Exception as e:  # noqa: BLE001 - any error here is the finding
                fail(failures, f"{top.name}/{dag_id}: serialization: {type(e).__name__}: {e}")
                continue
            dags[dag_id] = {
                "file": Path(dag.fileloc).resolve().relative_to(top.resolve()).as_posix(),
                "tasks": sorted(dag.task_ids),
                "edges": edges(dag),
                # Dataset* on 2.11 is Asset* on 3: the same timetable under its old name.
                "timetable": type(restored.timetable).__name__.replace("Dataset", "Asset"),
            }
    for path, error in sorted(bag.import_errors.items()):
        fail(failures, f"{top.name}/{path}: import error:\n{error.rstrip()}")
    captured = [t for ts in getattr(bag, "captured_warnings", {}).values() for t in ts]
    for w in caught:
        if not inside(folder, w.filename):
            continue  # raised by Airflow or a library, not by a generated file
        if is_access_control_notice(w, bag):
            continue
        prefix = f"{w.filename}:{w.lineno}: "
        # 3.2+ re-emits a file's warnings as UserWarning; the original category
        # survives only in the text of `captured_warnings`.
        text = next(
            (t for t in captured if t.startswith(prefix) and t.endswith(str(w.message))),
            f"{prefix}{w.category.__name__}: {w.message}",
        )
        fail(failures, f"{top.name}: warning: {text}")
    return dags


def is_access_control_notice(w: warnings.WarningMessage, bag) -> bool:
    """Airflow 3.1+ warns whenever a DAG sets `access_control` (the FAB permissions
    module is deprecated), wherever the value was written."""
    return "airflow.security.permissions module is deprecated" in str(w.message) and any(
        d.access_control for d in bag.dags.values()
    )


def inside(folder: Path, filename: str) -> bool:
    if not os.path.isabs(filename):
        return False
    try:
        Path(filename).resolve().relative_to(folder)
        return True
    except ValueError:
        return False


def edges(dag) -> list[list[str]]:
    return sorted([t.task_id, d] for t in dag.tasks for d in t.downstream_task_ids)


def run_dag(root: Path, spec: str, version: tuple, env: dict, home: Path, failures: list[str]) -> dict:
    """`airflow dags test` of one DAG, alone in a fresh DAG folder."""
    file, _, dag_id = spec.rpartition(":")
    run_dir = Path(env["AIRFLOW__CORE__DAGS_FOLDER"])
    run_dir.mkdir(parents=True, exist_ok=True)
    shutil.copy(root / file, run_dir)
    env = dict(env)
    if version < (3, 1):
        # 3.0's `dags test` does not put the DAG folder on sys.path (2.11 does, but
        # it does no harm there).
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(run_dir), env.get("PYTHONPATH")]))
    airflow = [sys.executable, "-m", "airflow"]
    steps = [airflow + ["db", "migrate"]]
    if version < (3, 1):
        # 2.11 needs the DAG in DagModel, 3.0 needs its asset outlets registered.
        steps.append(airflow + ["dags", "reserialize"])
    steps.append(airflow + ["dags", "test", dag_id])
    for step in steps:
        proc = subprocess.run(step, env=env, capture_output=True, text=True, timeout=600)
        if proc.returncode != 0:
            tail = "\n".join((proc.stdout + proc.stderr).rstrip().splitlines()[-25:])
            fail(failures, f"{' '.join(step[2:])}: exit status {proc.returncode}\n{tail}")
            break
    db = home / "airflow.db"
    state, tasks = None, {}
    if db.exists():
        with sqlite3.connect(db) as conn:
            rows = conn.execute(
                "SELECT state FROM dag_run WHERE dag_id = ? ORDER BY id DESC LIMIT 1", (dag_id,)
            ).fetchall()
            state = rows[0][0] if rows else None
            tasks = dict(
                conn.execute(
                    "SELECT task_id, state FROM task_instance WHERE dag_id = ?", (dag_id,)
                ).fetchall()
            )
    if state != "success" or not tasks or any(s != "success" for s in tasks.values()):
        fail(failures, f"dags test {dag_id}: run {state}, tasks {tasks}")
    return {"state": state, "tasks": tasks}


if __name__ == "__main__":
    sys.exit(main())
