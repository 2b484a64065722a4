"""Run every DAG of a folder once with `dag.test()`, in one process, and report the
final state of every task.

Run with the Python of the venv made by venv.sh:

    run_dags.py --dags DIR --out RESULTS.jsonl

One process and one throwaway metadata database serve the whole folder, which is
far faster than an `airflow dags test` process per DAG: starting Airflow and its
in-process execution API takes seconds, running a small DAG a fraction of one.
RESULTS.jsonl gets one line per DAG, in dag_id order, as soon as it has run:
{"dag_id": ..., "edges": [[upstream, downstream], ...], "state": <run state>,
"tasks": {task_id: state}}, or
{"dag_id": ..., "error": ...} when `dag.test()` raised. Import errors are printed
on stderr and make the exit status non-zero.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import traceback
from pathlib import Path

# The environment and the migrated database are set up as for the conformance run.
sys.path.insert(0, str(Path(__file__).resolve().parent))
from conformance import airflow_env, import_pools, install_database  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dags", required=True, help="folder of DAG files")
    parser.add_argument("--out", required=True, help="where to write the results")
    args = parser.parse_args()
    dags_dir = Path(args.dags).resolve()
    # SQLite commits on every state change; in memory they cost far less.
    shm = Path("/dev/shm")
    parent = str(shm) if shm.is_dir() and os.access(shm, os.W_OK) else None
    with tempfile.TemporaryDirectory(prefix="dagf-run-dags-", dir=parent) as home:
        home = Path(home)
        # `dag.test()` parses its bundle's folder again before every run: the bundle
        # is an empty folder, and the DAGs are put in the database once, below.
        bundle = home / "bundle"
        bundle.mkdir()
        env = airflow_env(home, bundle)
        os.environ.clear()
        os.environ.update(env)
        os.environ["AIRFLOW__LOGGING__LOGGING_LEVEL"] = "CRITICAL"
        sys.dont_write_bytecode = True
        install_database(home / "airflow.db", env)
        # The pools the build declared, so that tasks in them run.
        import_pools(dags_dir, env)
        return run_all(dags_dir, Path(args.out))


def run_all(dags_dir: Path, out: Path) -> int:
    from airflow.dag_processing.bundles.manager import DagBundlesManager
    from airflow.dag_processing.dagbag import DagBag, sync_bag_to_db

    bag = DagBag(dag_folder=dags_dir)
    for path, error in sorted(bag.import_errors.items()):
        print(f"run_dags: import error in {path}:\n{error}", file=sys.stderr)
    DagBundlesManager().sync_bundles_to_db()
    sync_bag_to_db(bag, "dags-folder", None)
    with open(out, "w") as results:
        for dag_id in sorted(bag.dags):
            dag = bag.dags[dag_id]
            try:
                run = dag.test()
                line = {
                    "dag_id": dag_id,
                    "edges": sorted(
                        [t.task_id, d] for t in dag.tasks for d in t.downstream_task_ids
                    ),
                    "state": str(run.state),
                    "tasks": {
                        ti.task_id: str(ti.state) if ti.state else None
                        for ti in run.get_task_instances()
                    },
                }
            except Exception:  # noqa: BLE001 - reported per DAG, the rest still run
                line = {"dag_id": dag_id, "error": traceback.format_exc()}
            results.write(json.dumps(line, sort_keys=True) + "\n")
            results.flush()
    return 1 if bag.import_errors else 0


if __name__ == "__main__":
    sys.exit(main())
