"""Asks Airflow when a DAG's timetable runs: the next runs after each given instant.

    python next_runs.py --dags FOLDER --ask DAG_ID=2024-03-29T00:00:00Z --count 4

loads the folder as the DAG processor does, takes each DAG asked about through
serialization (the scheduler plans runs with the deserialized, core timetable), and
prints one JSON object: for each `--ask`, the DAG's time zone and the `run_after` of
its next `--count` runs after the instant, in UTC, as `next_dagrun_info` gives them
one after the other.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import warnings
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dags", required=True)
    parser.add_argument("--ask", action="append", required=True, metavar="DAG_ID=INSTANT")
    parser.add_argument("--count", type=int, default=4)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="dagf-airflow-home-") as home:
        os.environ.update(
            {
                "AIRFLOW_HOME": home,
                "AIRFLOW__CORE__DAGS_FOLDER": args.dags,
                "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home}/airflow.db",
                "AIRFLOW__LOGGING__LOGGING_LEVEL": "CRITICAL",
            }
        )
        sys.dont_write_bytecode = True
        import pendulum
        from airflow.dag_processing.dagbag import BundleDagBag
        from airflow.serialization.serialized_objects import DagSerialization
        from airflow.timetables.base import TimeRestriction

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            bag = BundleDagBag(
                dag_folder=args.dags, bundle_path=Path(args.dags), bundle_name="dags"
            )
        result = {}
        for ask in args.ask:
            dag_id, _, after = ask.partition("=")
            if dag_id not in bag.dags:
                print(f"next_runs: {dag_id} not loaded: {bag.import_errors}", file=sys.stderr)
                return 1
            dag = DagSerialization.from_dict(DagSerialization.to_dict(bag.dags[dag_id]))
            restriction = TimeRestriction(
                earliest=pendulum.parse(after), latest=None, catchup=True
            )
            last, runs = None, []
            for _ in range(args.count):
                info = dag.timetable.next_dagrun_info(
                    last_automated_data_interval=last, restriction=restriction
                )
                if info is None:
                    break
                runs.append(info.run_after.in_timezone("UTC").isoformat())
                last = info.data_interval
            result[ask] = {"timezone": str(dag.timezone), "runs": runs}
        print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
