"""Loads a dagfc output folder in Airflow's multi-team mode, as a deployment would.

Usage: python teams.py OUT_DIR

The bundle list is the build's airflow-bundles.json; teams are created from it
(`airflow teams sync`) and every bundle is parsed into the database (`airflow dags
reserialize`). Prints one JSON object: for every DAG in the database, its bundle and
the team that owns it, and the import errors of every bundle.
"""

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path


def main() -> None:
    out = Path(sys.argv[1]).resolve()
    bundles = (out / "airflow-bundles.json").read_text()
    home = tempfile.mkdtemp(prefix="dagf-teams-")
    env = dict(os.environ)
    env.update(
        {
            "AIRFLOW_HOME": home,
            "AIRFLOW__CORE__DAGS_FOLDER": str(out),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__MULTI_TEAM": "True",
            "AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST": bundles,
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home}/airflow.db",
        }
    )
    airflow = str(Path(sys.executable).parent / "airflow")
    for args in (["db", "migrate"], ["teams", "sync"], ["dags", "reserialize"]):
        run = subprocess.run([airflow, *args], env=env, capture_output=True, text=True)
        if run.returncode != 0:
            sys.exit(f"`airflow {' '.join(args)}` failed:\n{run.stdout}\n{run.stderr}")
    # Read the database in a process configured the same way.
    probe = r"""
import json
from sqlalchemy import select
from airflow.models.dag import DagModel
from airflow.models.errors import ParseImportError
from airflow.utils.session import create_session
with create_session() as session:
    rows = session.execute(select(DagModel.dag_id, DagModel.bundle_name)).all()
    ids = [r[0] for r in rows]
    teams = DagModel.get_dag_id_to_team_name_mapping(ids, session=session)
    errors = [
        {"bundle": e.bundle_name, "file": e.filename, "error": e.stacktrace}
        for e in session.scalars(select(ParseImportError))
    ]
# What each bundle's own parse finds, as the DAG processor parses it: a DAG found by
# two bundles would be loaded twice, and owned by whichever parsed last.
from airflow.dag_processing.bundles.manager import DagBundlesManager
from airflow.dag_processing.dagbag import BundleDagBag
loaded = {}
for bundle in DagBundlesManager().get_all_dag_bundles():
    bundle.initialize()
    bag = BundleDagBag(bundle.path, bundle_path=bundle.path, bundle_name=bundle.name)
    loaded[bundle.name] = sorted(bag.dag_ids)
print(json.dumps({
    "dags": {d: {"bundle": b, "team": teams.get(d)} for d, b in rows},
    "errors": errors,
    "loaded": loaded,
}))
"""
    run = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True)
    if run.returncode != 0:
        sys.exit(f"reading the database failed:\n{run.stderr}")
    print(run.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    main()
