"""Compare the DAGs dag-factory builds from a YAML file with the DAGs `dagfc import
dag-factory` made of it, as real Apache Airflow loads them.

Run with the Python of the venv made by venv.sh:

    import_compare.py --dagf DIR --dagfactory DIR

DIR of --dagf holds the Python files `dagfc build` wrote; DIR of --dagfactory holds
the YAML file(s) and a loader file calling dag-factory's `load_yaml_dags`. Each
folder is loaded with Airflow's DagBag in a process of its own (with its own
AIRFLOW_HOME); both must load without import errors and give the same DAG ids, and
every DAG the same tasks, edges, task groups, operators, task arguments, callables,
callbacks and schedule. Differences are printed as a readable diff; the last line is
`import-compare: N dags equal, M differ` and the exit status is non-zero when
anything differs or failed to load.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

# Task attributes compared on every task (as Airflow resolved them, defaults and
# default_args applied).
TASK_ATTRIBUTES = (
    "owner",
    "retries",
    "retry_delay",
    "execution_timeout",
    "trigger_rule",
    "pool",
    "queue",
    "depends_on_past",
)
# Attributes compared where the operator has them.
OPERATOR_ATTRIBUTES = (
    "bash_command",
    "python_callable",
    "op_kwargs",
    "mode",
    "poke_interval",
    "timeout",
    "filepath",
    "delta",
    "external_dag_id",
    "external_task_id",
    "execution_delta",
    "message",
    "repeat",
)
# Starts the line the child process describes the DAGs on (Airflow logs to stdout too).
MARK = "import-compare-json: "
CALLBACKS = (
    "on_execute_callback",
    "on_failure_callback",
    "on_success_callback",
    "on_retry_callback",
    "on_skipped_callback",
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dagf", help="folder of the Python files dagfc generated")
    parser.add_argument("--dagfactory", help="folder of the YAML and its loader file")
    parser.add_argument("--load", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.load:
        return load(Path(args.load))
    if not (args.dagf and args.dagfactory):
        parser.error("--dagf and --dagfactory are required")
    sides = {}
    for name, folder in (("dagf", args.dagf), ("dag-factory", args.dagfactory)):
        result, problem = run_load(Path(folder).resolve())
        if problem:
            print(
                f"import-compare: loading the {name} folder {folder} failed:\n{problem}"
            )
            print("import-compare: 0 dags equal, 1 differ")
            return 1
        sides[name] = result
    return compare(sides["dagf"], sides["dag-factory"])


def run_load(folder: Path) -> tuple[dict, str | None]:
    """Loads `folder` in a fresh process; returns its description or the problem."""
    if not folder.is_dir():
        return {}, f"{folder} is not a directory"
    with tempfile.TemporaryDirectory(prefix="dagf-import-home-") as home:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith("AIRFLOW") or k.startswith("AIRFLOW_CONN_")
        }
        env.update(
            {
                "AIRFLOW_HOME": home,
                "AIRFLOW__CORE__DAGS_FOLDER": str(folder),
                "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
                "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home}/airflow.db",
                "AIRFLOW__LOGGING__LOGGING_LEVEL": "ERROR",
                "AIRFLOW__DAG_FACTORY__ENABLE_TELEMETRY": "False",
                "DO_NOT_TRACK": "1",
                "SCARF_NO_ANALYTICS": "1",
                "PYTHONDONTWRITEBYTECODE": "1",
            }
        )
        run = subprocess.run(
            [sys.executable, __file__, "--load", str(folder)],
            env=env,
            check=False,
            capture_output=True,
            text=True,
            timeout=600,
        )
        if run.returncode != 0:
            return {}, (run.stdout + run.stderr).strip()[-4000:]
        lines = [l for l in run.stdout.splitlines() if l.startswith(MARK)]
        try:
            return json.loads(lines[-1][len(MARK) :]), None
        except (ValueError, IndexError):
            return {}, f"unreadable output:\n{run.stdout[-2000:]}{run.stderr[-2000:]}"


def load(folder: Path) -> int:
    """In the child process: load the folder, print one JSON line describing it."""
    sys.dont_write_bytecode = True
    from airflow.dag_processing.dagbag import BundleDagBag

    bag = BundleDagBag(dag_folder=folder, bundle_path=folder, bundle_name="dags-folder")
    if bag.import_errors:
        for path, error in sorted(bag.import_errors.items()):
            print(f"import error in {path}:\n{error.rstrip()}")
        return 1
    if not bag.dags:
        print(f"no DAGs found in {folder}")
        return 1
    dags = {dag_id: describe(dag) for dag_id, dag in sorted(bag.dags.items())}
    print(MARK + json.dumps(dags, sort_keys=True))
    return 0


def describe(dag) -> dict:
    tasks = {}
    for task in dag.tasks:
        attrs = {name: show(getattr(task, name, None)) for name in TASK_ATTRIBUTES}
        for name in OPERATOR_ATTRIBUTES:
            if hasattr(task, name):
                attrs[name] = show(getattr(task, name))
        for name in CALLBACKS:
            attrs[name] = show(getattr(task, name, None))
        tasks[task.task_id] = {
            "operator": f"{type(task).__module__}.{type(task).__qualname__}",
            "group": task.task_group.group_id if task.task_group else None,
            "upstream": sorted(task.upstream_task_ids),
            "attributes": attrs,
        }
    groups = {
        str(group_id): {
            "parent": group.parent_group.group_id if group.parent_group else None,
            "tooltip": group.tooltip,
        }
        for group_id, group in dag.task_group.get_task_group_dict().items()
        if group_id is not None
    }
    return {
        "tasks": tasks,
        "edges": sorted(
            [t.task_id, d] for t in dag.tasks for d in t.downstream_task_ids
        ),
        "task_groups": groups,
        "dag": {
            "schedule": timetable(dag.timetable),
            # dag-factory passes `start_date=None` to the DAG when only default_args
            # has one; given no start_date, Airflow takes the one of default_args. The
            # scheduler uses the earliest task start either way.
            "start_date": show(
                dag.start_date
                or min((t.start_date for t in dag.tasks if t.start_date), default=None)
            ),
            "end_date": show(dag.end_date),
            "catchup": dag.catchup,
            # dag-factory adds the tag "dagfactory" to every DAG it builds.
            "tags": sorted(t for t in dag.tags if t != "dagfactory"),
            "description": dag.description,
            "max_active_runs": dag.max_active_runs,
            "max_active_tasks": dag.max_active_tasks,
            "dagrun_timeout": show(dag.dagrun_timeout),
            "params": show(dict(dag.params)),
            "on_success_callback": show(dag.on_success_callback),
            "on_failure_callback": show(dag.on_failure_callback),
        },
    }


def timetable(t) -> str:
    """The timetable's class and its fields (attrs classes in the task SDK)."""
    fields = getattr(t, "__attrs_attrs__", None) or ()
    return f"{type(t).__name__}({', '.join(f'{a.name}={show(getattr(t, a.name))!r}' for a in fields)})"


def show(value):
    """A JSON-ready, comparable form of an attribute value."""
    from datetime import datetime, timedelta
    from enum import Enum
    from functools import partial

    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, timedelta):
        return f"timedelta({value.total_seconds()}s)"
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, partial):
        kwargs = ", ".join(
            f"{k}={show(v)!r}" for k, v in sorted(value.keywords.items())
        )
        return f"partial({show(value.func)}, {kwargs})"
    if isinstance(value, (list, tuple)):
        return [show(v) for v in value]
    if isinstance(value, dict):
        return {
            str(k): show(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))
        }
    if callable(value) and hasattr(value, "__qualname__"):
        return f"{value.__module__}.{value.__qualname__}"
    # A notifier or another object: its class and its own attributes.
    fields = {
        k: show(v)
        for k, v in sorted(vars(value).items())
        if not k.startswith("_") and isinstance(v, (str, int, float, bool, type(None)))
    }
    return f"{type(value).__qualname__}({fields})"


def compare(dagf: dict, factory: dict) -> int:
    differ = 0
    equal = 0
    for dag_id in sorted(set(dagf) | set(factory)):
        if dag_id not in dagf:
            print(
                f"DIFF {dag_id}: dag-factory builds it, the dagf output has no such DAG"
            )
            differ += 1
            continue
        if dag_id not in factory:
            print(
                f"DIFF {dag_id}: the dagf output has it, dag-factory builds no such DAG"
            )
            differ += 1
            continue
        lines = diff(dagf[dag_id], factory[dag_id], dag_id)
        if lines:
            differ += 1
            print(f"DIFF {dag_id}:")
            for line in lines:
                print(f"    {line}")
        else:
            equal += 1
    print(f"import-compare: {equal} dags equal, {differ} differ")
    return 1 if differ else 0


def diff(a, b, path: str) -> list[str]:
    """Readable differences between the dagf side `a` and the dag-factory side `b`."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for k in sorted(set(a) | set(b)):
            if k not in a:
                out.append(f"{path}.{k}: only dag-factory has it: {b[k]!r}")
            elif k not in b:
                out.append(f"{path}.{k}: only dagf has it: {a[k]!r}")
            else:
                out.extend(diff(a[k], b[k], f"{path}.{k}"))
        return out
    if a != b:
        if isinstance(a, list) and isinstance(b, list):
            extra = [x for x in a if x not in b]
            missing = [x for x in b if x not in a]
            if extra or missing:
                return [
                    f"{path}: dagf also has {extra}, dag-factory also has {missing}"
                ]
        return [f"{path}: dagf {a!r} != dag-factory {b!r}"]
    return []


if __name__ == "__main__":
    sys.exit(main())
