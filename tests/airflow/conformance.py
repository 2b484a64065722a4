"""Check that a folder of generated DAG files is accepted by real Apache Airflow.

Run with the Python of the venv made by venv.sh:

    conformance.py --dags DIR [--run DAG_ID ...] [--run-all] [--json OUT.json]
                   [--timeout SECONDS]

Every DAG in DIR must parse without import errors and without warnings emitted
from files in DIR, serialize (and deserialize) the way the scheduler stores it,
and, when asked, complete an `airflow dags test` run in state success. The last
line printed is `conformance: N passed, M failed`; the exit status is non-zero
when anything failed.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from pathlib import Path

# How often a running `airflow dags test` is polled, in seconds.
POLL_INTERVAL = 0.5
# Lines of a failing task's log shown in the report.
LOG_EXCERPT_LINES = 15
# Substrings of `dags test` log lines that say nothing about why a task failed.
LOG_NOISE = (
    "[airflow.api_fastapi.",
    "::group::",
    "::endgroup::",
    "[DAG TEST] running task",
)
# Serialized task keys that are presentation or bookkeeping, not task arguments.
SERIALIZED_NOISE = frozenset(
    {
        "_needs_expansion",
        "_task_module",
        "downstream_task_ids",
        "task_id",
        "task_type",
        "template_ext",
        "template_fields",
        "template_fields_renderers",
        "ui_color",
        "ui_fgcolor",
    }
)
# Task attributes reported for every task, defaults included.
TASK_ATTRIBUTES = (
    "owner",
    "pool",
    "pool_slots",
    "queue",
    "priority_weight",
    "weight_rule",
    "trigger_rule",
    "retries",
    "retry_delay",
    "retry_exponential_backoff",
    "max_retry_delay",
    "execution_timeout",
    "depends_on_past",
    "wait_for_downstream",
    "do_xcom_push",
    "max_active_tis_per_dag",
    "doc_md",
)


def task_attribute(task, name: str):
    """A task's argument; a mapped task keeps some of the ones every instance shares
    only in its `partial_kwargs`."""
    try:
        return getattr(task, name)
    except AttributeError:
        return getattr(task, "partial_kwargs", {}).get(name)


class Report:
    """Collects failures by subject (a dag_id, a file, or a setup step)."""

    def __init__(self) -> None:
        self.failures: dict[str, list[str]] = {}

    def fail(self, subject: str, message: str) -> None:
        messages = self.failures.setdefault(subject, [])
        if message in messages:
            return  # e.g. the same warning raised twice by one line
        messages.append(message)
        first, _, rest = message.partition("\n")
        print(f"FAIL {subject}: {first}")
        if rest:
            print("     " + rest.replace("\n", "\n     "))


def main() -> int:
    args = parse_args()
    dags_dir = Path(args.dags).resolve()
    # Checked without importing Airflow: that must wait until the environment is set.
    if importlib.util.find_spec("airflow") is None:
        problem = f"{sys.executable} cannot import airflow; use the python of the venv made by venv.sh"
    elif not dags_dir.is_dir():
        problem = f"--dags {args.dags} is not a directory"
    else:
        problem = None
    if problem:
        print(f"conformance: {problem}", file=sys.stderr)
        print("conformance: 0 passed, 1 failed")
        return 1

    report = Report()
    with tempfile.TemporaryDirectory(prefix="dagf-airflow-home-") as home:
        env = airflow_env(Path(home), dags_dir)
        # Airflow reads its configuration when first imported, so the
        # environment must be in place before that.
        os.environ.clear()
        os.environ.update(env)
        # Only for this process: parse problems are reported from the DagBag's
        # own records below, so Airflow's log lines would just repeat them.
        os.environ["AIRFLOW__LOGGING__LOGGING_LEVEL"] = "CRITICAL"
        # Keep __pycache__ out of the DAG folder (it may be under version control).
        sys.dont_write_bytecode = True

        started = time.monotonic()
        dags, summary = load_and_serialize(dags_dir, report)
        print(
            f"parsed and serialized {len(dags)} DAGs in {time.monotonic() - started:.2f}s"
        )

        to_run = sorted(dags) if args.run_all else sorted(set(args.run))
        runs = {}
        if to_run:
            runs = run_dags(to_run, dags, Path(home), env, args.timeout, report)

    failed = len(report.failures)
    passed = len([d for d in dags if d not in report.failures])
    summary["runs"] = runs
    summary["passed"] = passed
    summary["failed"] = failed
    summary["failures"] = dict(sorted(report.failures.items()))
    if args.json:
        Path(args.json).write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n")

    print(f"conformance: {passed} passed, {failed} failed")
    return 1 if failed else 0


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dags", required=True, help="folder of generated DAG files")
    parser.add_argument(
        "--run",
        action="append",
        default=[],
        metavar="DAG_ID",
        help="run this DAG with `airflow dags test`",
    )
    parser.add_argument(
        "--run-all", action="store_true", help="run every DAG with `airflow dags test`"
    )
    parser.add_argument(
        "--json", metavar="OUT.json", help="write a summary of every DAG here"
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=300.0,
        help="seconds allowed for each DAG run (default 300)",
    )
    return parser.parse_args()


def schedule_assets(timetable) -> list[str]:
    """The assets a DAG is scheduled on, by URI, and its aliases as `alias NAME`."""
    condition = getattr(timetable, "asset_condition", None)
    if condition is None:
        return []
    uris = {a.uri for _, a in condition.iter_assets()}
    aliases = {f"alias {name}" for name, _ in condition.iter_asset_aliases()}
    return sorted(uris | aliases)


def airflow_env(home: Path, dags_dir: Path) -> dict[str, str]:
    """An environment for a throwaway Airflow living in `home`.

    Airflow settings inherited from the caller are dropped so the result does not
    depend on the machine; AIRFLOW_CONN_* and AIRFLOW_VAR_* are kept because they
    are how a test hands connections and variables to the DAGs.
    """
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("AIRFLOW")
        or k.startswith(("AIRFLOW_CONN_", "AIRFLOW_VAR_"))
    }
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(dags_dir),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
            "PYTHONDONTWRITEBYTECODE": "1",
        }
    )
    return env


# ---------------------------------------------------------------------------
# Parsing and serialization (in process; needs no metadata database)
# ---------------------------------------------------------------------------


def load_and_serialize(dags_dir: Path, report: Report) -> tuple[dict, dict]:
    # BundleDagBag, not plain DagBag: in Airflow 3.3 only the bundle variant puts
    # the DAG folder on sys.path, which is what the DAG processor, the task
    # runner and `airflow dags test` all use, so helper modules beside the DAG
    # files import the same way here as in production.
    from airflow.dag_processing.dagbag import BundleDagBag
    from airflow.serialization.serialized_objects import DagSerialization

    with warnings.catch_warnings(record=True) as caught:
        # "always": the default filters hide DeprecationWarning outside __main__
        # and show each warning only once per location.
        warnings.simplefilter("always")
        # A build with teams writes each team's folder as a bundle of its own (and an
        # .airflowignore that leaves it out of the whole folder's): load every bundle,
        # as the DAG processor does, and see them as one bag.
        bags = [
            BundleDagBag(dag_folder=path, bundle_path=path, bundle_name=name)
            for name, path in bundles(dags_dir)
        ]
        bag = bags[0]
        for other in bags[1:]:
            for dag_id, dag in other.dags.items():
                if dag_id in bag.dags:
                    report.fail(dag_id, "loaded by two bundles")
                bag.dags[dag_id] = dag
            prefix = Path(other.dag_folder).relative_to(dags_dir).as_posix()
            for path, error in other.import_errors.items():
                bag.import_errors[f"{prefix}/{path}"] = error
            bag.captured_warnings.update(other.captured_warnings)
        serialized = {}
        for dag_id, dag in sorted(bag.dags.items()):
            try:
                data = DagSerialization.to_dict(dag)
                restored = DagSerialization.from_dict(data)
                check_round_trip(dag, restored)
                check_schedules(restored)
                serialized[dag_id] = (data["dag"], restored)
            except Exception as e:  # noqa: BLE001 - any error here is the finding
                report.fail(dag_id, f"serialization: {type(e).__name__}: {e}")

    # With a bundle_path, DagBag keys import errors by path relative to it.
    for path, error in sorted(bag.import_errors.items()):
        report.fail(path, f"import error:\n{error.rstrip()}")

    dags_by_file: dict[str, list[str]] = {}
    for dag_id, dag in bag.dags.items():
        dags_by_file.setdefault(file_in(dags_dir, dag.fileloc), []).append(dag_id)
    for w in caught:
        file = file_in(dags_dir, w.filename)
        if file is None:
            continue  # emitted by Airflow or a library, not by a file in DIR
        if is_access_control_notice(w, dags_by_file.get(file, []), bag):
            continue
        message = f"{file}:{w.lineno}: {warning_category(w, bag)}: {w.message}"
        for subject in dags_by_file.get(file, [file]):
            report.fail(subject, f"warning: {message}")

    if not bag.dags and not bag.import_errors:
        report.fail(str(dags_dir), "no DAGs found")

    summary = {
        "airflow_version": airflow_version(),
        "import_errors": dict(sorted(bag.import_errors.items())),
        "dags": {
            dag_id: summarize(bag.dags[dag_id], ser, restored)
            for dag_id, (ser, restored) in serialized.items()
        },
    }
    return bag.dags, summary


def bundles(dags_dir: Path) -> list[tuple[str, Path]]:
    """The bundles of a build: the whole folder, then each team's folder that the
    build's airflow-bundles.json names (their paths are where the folder is deployed,
    so they are taken relative to the first one, the whole folder's)."""
    listed = dags_dir / "airflow-bundles.json"
    if not listed.is_file():
        return [("dags-folder", dags_dir)]
    config = json.loads(listed.read_text())
    top = Path(config[0]["kwargs"]["path"])
    return [
        (b["name"], dags_dir / Path(b["kwargs"]["path"]).relative_to(top))
        for b in config
    ]


def is_access_control_notice(w: warnings.WarningMessage, dag_ids, bag) -> bool:
    """Airflow 3.3 warns whenever a DAG sets `access_control` (DAG-level access
    control belongs to the FAB auth manager and is deprecated). That one warning
    is expected from a DAG that sets it, and only from such a DAG."""
    return (
        "airflow.security.permissions module is deprecated" in str(w.message)
        and bool(dag_ids)
        and all(bag.dags[d].access_control for d in dag_ids)
    )


def warning_category(w: warnings.WarningMessage, bag) -> str:
    """The category the warning was raised with.

    DagBag records warnings raised while importing a file and re-emits them as
    UserWarning; the original category survives only in its text form
    `file:line: category: message` in `bag.captured_warnings`.
    """
    prefix, suffix = f"{w.filename}:{w.lineno}: ", f": {w.message}"
    for texts in bag.captured_warnings.values():
        for text in texts:
            if text.startswith(prefix) and text.endswith(suffix):
                return text[len(prefix) : -len(suffix)]
    return w.category.__name__


def check_round_trip(dag, restored) -> None:
    if sorted(restored.task_ids) != sorted(dag.task_ids):
        raise ValueError(
            f"task ids changed: {sorted(dag.task_ids)} -> {sorted(restored.task_ids)}"
        )
    if edges(restored) != edges(dag):
        raise ValueError(f"edges changed: {edges(dag)} -> {edges(restored)}")


def check_schedules(restored) -> None:
    """A DAG on a cron or an interval, with no end date, has a next run.

    Airflow loads a DAG whose cron names a day that never comes, or whose interval
    cannot be added to the current time, and then never schedules it: the scheduler
    logs "Failed to fetch run info" and stores no next run. This asks the scheduler's
    own question, and fails where the answer is an exception or no run.
    """
    timetable = restored.timetable
    if not getattr(timetable, "periodic", False) or restored.end_date is not None:
        return
    info = timetable.next_dagrun_info_v2(
        last_dagrun_info=None, restriction=restored._time_restriction
    )
    if info is None:
        raise ValueError(
            f"never scheduled: {type(timetable).__name__} ({timetable.summary}) has no next run"
        )


def edges(dag) -> list[list[str]]:
    return sorted([t.task_id, d] for t in dag.tasks for d in t.downstream_task_ids)


def summarize(dag, ser: dict, restored) -> dict:
    """A deterministic, JSON-ready description of one DAG for the Rust tests.

    `dag` is the DAG as parsed, `ser` its serialized form and `restored` the
    scheduler-side DAG deserialized from it (whose timetable has a summary).
    """
    tasks = {}
    for task in sorted(dag.tasks, key=lambda t: t.task_id):
        ser_task = next(
            t["__var"] for t in ser["tasks"] if t["__var"]["task_id"] == task.task_id
        )
        tasks[task.task_id] = {
            "operator": task.task_type,
            "operator_module": ser_task["_task_module"],
            "task_group": task.task_group.group_id if task.task_group else None,
            "upstream": sorted(task.upstream_task_ids),
            "downstream": sorted(task.downstream_task_ids),
            "inlets": [jsonable(a) for a in task.inlets],
            "outlets": [jsonable(a) for a in task.outlets],
            **{name: jsonable(task_attribute(task, name)) for name in TASK_ATTRIBUTES},
            # Operator-specific arguments as the scheduler stores them (values
            # equal to Airflow's defaults are omitted by the serializer).
            "serialized": {
                k: v for k, v in sorted(ser_task.items()) if k not in SERIALIZED_NOISE
            },
        }
    groups = {}
    for group_id, group in sorted(
        dag.task_group.get_task_group_dict().items(), key=lambda kv: str(kv[0])
    ):
        if group_id is None:
            continue  # the implicit root group
        groups[group_id] = {
            "parent": group.parent_group.group_id if group.parent_group else None,
            "tooltip": group.tooltip,
            "prefix_group_id": group.prefix_group_id,
        }
    return {
        "file": dag.relative_fileloc,
        "description": dag.description,
        "doc_md": dag.doc_md,
        "owner": dag.owner,
        "tags": sorted(dag.tags),
        # As the scheduler has them after the round trip through serialization.
        "access_control": {
            role: {resource: sorted(actions) for resource, actions in perms.items()}
            for role, perms in (restored.access_control or {}).items()
        },
        "schedule_assets": schedule_assets(restored.timetable),
        "timetable": {
            "type": ser["timetable"]["__type"],
            "summary": restored.timetable.summary,
            "value": ser["timetable"]["__var"],
        },
        "start_date": jsonable(dag.start_date),
        "end_date": jsonable(dag.end_date),
        "catchup": dag.catchup,
        "max_active_runs": dag.max_active_runs,
        "max_active_tasks": dag.max_active_tasks,
        "dagrun_timeout": jsonable(dag.dagrun_timeout),
        "is_paused_upon_creation": dag.is_paused_upon_creation,
        "default_args_keys": sorted(dag.default_args),
        "default_args": ser.get("default_args", {}).get("__var", {}),
        "params": ser["params"],
        "dag_dependencies": ser["dag_dependencies"],
        "task_ids": sorted(dag.task_ids),
        "edges": edges(dag),
        "task_groups": groups,
        "tasks": tasks,
    }


def jsonable(value):
    """Render attribute values (timedeltas, datetimes, enums, assets) as JSON."""
    from datetime import datetime, timedelta
    from enum import Enum

    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (list, tuple, set, frozenset)):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in sorted(value.items())}
    if hasattr(value, "uri") and hasattr(value, "name"):  # Asset
        return {"type": type(value).__name__, "name": value.name, "uri": value.uri}
    return repr(value)


def file_in(dags_dir: Path, filename: str) -> str | None:
    """`filename` relative to the DAG folder, or None when it lies outside.

    Warnings may name pseudo-files such as `<frozen importlib._bootstrap>`;
    only absolute paths can be inside the folder.
    """
    if not os.path.isabs(filename):
        return None
    try:
        return Path(filename).resolve().relative_to(dags_dir).as_posix()
    except ValueError:
        return None


def airflow_version() -> str:
    from airflow import __version__

    return __version__


# ---------------------------------------------------------------------------
# Running DAGs with `airflow dags test` (needs the metadata database)
# ---------------------------------------------------------------------------


def run_dags(
    dag_ids: list[str],
    dags: dict,
    home: Path,
    env: dict,
    timeout: float,
    report: Report,
) -> dict:
    results = {}
    started = time.monotonic()
    try:
        install_database(home / "airflow.db", env)
    except RuntimeError as e:
        report.fail("airflow db migrate", str(e))
        return results
    try:
        import_pools(Path(env["AIRFLOW__CORE__DAGS_FOLDER"]), env)
    except RuntimeError as e:
        report.fail("airflow pools import", str(e))
        return results
    print(f"metadata database ready in {time.monotonic() - started:.2f}s")

    for dag_id in dag_ids:
        if dag_id not in dags:
            report.fail(dag_id, "--run: no such DAG (see the import errors above)")
    known = [d for d in dag_ids if d in dags]
    # The runs share nothing but the files their tasks write, so they go side by
    # side, one worker per core (DAGF_CONFORMANCE_JOBS overrides), each worker in a
    # home of its own with a copy of the migrated database: one SQLite file is not
    # for two writers.
    jobs = int(os.environ.get("DAGF_CONFORMANCE_JOBS") or os.cpu_count() or 1)
    jobs = max(1, min(jobs, len(known)))
    homes = [home]
    for k in range(1, jobs):
        other = home / f"worker-{k}"
        other.mkdir()
        shutil.copyfile(home / "airflow.db", other / "airflow.db")
        homes.append(other)

    def worker(k: int) -> None:
        own = homes[k]
        own_env = {
            **env,
            "AIRFLOW_HOME": str(own),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{own / 'airflow.db'}",
        }
        for dag_id in known[k::jobs]:
            started = time.monotonic()
            result = run_dag(
                dag_id, own, bundle_env(own_env, dags[dag_id].fileloc), timeout, report
            )
            results[dag_id] = result
            print(f"ran {dag_id}: {result['state']} in {time.monotonic() - started:.1f}s")

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {d: results[d] for d in known if d in results}


def bundle_env(env: dict, fileloc: str) -> dict:
    """The environment `airflow dags test` runs a DAG in: a DAG in a team's folder is
    found in that team's bundle (the whole folder's bundle leaves it out), with the
    top of the output folder on PYTHONPATH for the helper modules beside it, as a
    multi-team deployment installs them."""
    top = Path(env["AIRFLOW__CORE__DAGS_FOLDER"])
    file = Path(fileloc).resolve()
    folders = [path for _, path in bundles(top) if path != top]
    inside = [f for f in folders if f.resolve() in file.parents]
    if not inside:
        return env
    folder = max(inside, key=lambda f: len(f.parts))
    paths = [str(top)] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    return {
        **env,
        "AIRFLOW__CORE__DAGS_FOLDER": str(folder),
        "PYTHONPATH": os.pathsep.join(paths),
    }


def install_database(db: Path, env: dict) -> None:
    """Put a migrated SQLite metadata database at `db`.

    `airflow db migrate` takes seconds; its result does not depend on
    AIRFLOW_HOME or the DAG folder, so one migrated copy per Airflow version is
    kept inside the venv and copied.
    """
    template = Path(sys.prefix) / "dagf-airflow-db" / f"airflow-{airflow_version()}.db"
    if not template.exists():
        template.parent.mkdir(exist_ok=True)
        fresh = template.with_name(f"{template.name}.{os.getpid()}.tmp")
        migrate_env = {
            **env,
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{fresh}",
        }
        proc = subprocess.run(
            [sys.executable, "-m", "airflow", "db", "migrate"],
            check=False,
            env=migrate_env,
            capture_output=True,
            text=True,
        )
        if proc.returncode != 0:
            fresh.unlink(missing_ok=True)
            raise RuntimeError(
                f"exit status {proc.returncode}\n{tail(proc.stdout + proc.stderr, 20)}"
            )
        # Concurrent invocations may race here; the rename makes that harmless.
        fresh.replace(template)
    shutil.copyfile(template, db)


def import_pools(dags_dir: Path, env: dict) -> None:
    """Create the pools the build declared (`pools.json` at the top of the output
    folder), with the real `airflow pools import`, so tasks in them can run."""
    pools = dags_dir / "pools.json"
    if not pools.exists():
        return
    proc = subprocess.run(
        [sys.executable, "-m", "airflow", "pools", "import", str(pools)],
        check=False,
        env=env,
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        raise RuntimeError(
            f"exit status {proc.returncode}\n{tail(proc.stdout + proc.stderr, 20)}"
        )


def run_dag(dag_id: str, home: Path, env: dict, timeout: float, report: Report) -> dict:
    """Run one DAG with `airflow dags test` and return its final states.

    No logical date is passed: `dags test` then uses the current time. A task
    that fails and has retries left goes to up_for_retry and `dags test` would
    sleep through its retry_delay, so the run is stopped as failed as soon as
    any task fails once.
    """
    log_path = home / f"dags-test-{dag_id}.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "airflow", "dags", "test", dag_id],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            # Own process group, so the task subprocesses go when it is stopped.
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        stopped = None
        while proc.poll() is None:
            time.sleep(POLL_INTERVAL)
            if time.monotonic() > deadline:
                stopped = f"timed out after {timeout:.0f}s"
            elif failed_once := [
                t for t, s in task_states(home, dag_id).items() if s == "up_for_retry"
            ]:
                stopped = (
                    f"stopped: {', '.join(sorted(failed_once))} failed (up_for_retry)"
                )
            if stopped:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()

    output = log_path.read_text(errors="replace")
    state = dag_run_state(home, dag_id)
    tasks = task_states(home, dag_id)
    if stopped or state != "success":
        lines = [
            stopped or f"dag run ended in state {state} (exit status {proc.returncode})"
        ]
        for task_id, task_state in sorted(tasks.items()):
            if task_state in ("failed", "up_for_retry"):
                lines.append(f"task {task_id} {task_state}; log tail:")
                lines.append(task_log_excerpt(output, task_id))
        if len(lines) == 1:
            lines.append(tail(output, 20))
        report.fail(dag_id, "dags test: " + "\n".join(lines))
    return {"state": state if not stopped else "failed", "tasks": tasks}


def query(home: Path, sql: str, *params) -> list[tuple]:
    """Read the metadata database while `dags test` may be writing to it."""
    try:
        with sqlite3.connect(
            f"file:{home / 'airflow.db'}?mode=ro", uri=True, timeout=5
        ) as conn:
            return conn.execute(sql, params).fetchall()
    except sqlite3.OperationalError:
        return []  # locked by the writer; the caller polls again


def dag_run_state(home: Path, dag_id: str) -> str | None:
    rows = query(
        home,
        "SELECT state FROM dag_run WHERE dag_id = ? ORDER BY id DESC LIMIT 1",
        dag_id,
    )
    return rows[0][0] if rows else None


def task_states(home: Path, dag_id: str) -> dict[str, str | None]:
    rows = query(
        home,
        "SELECT task_id, state FROM task_instance WHERE run_id = "
        "(SELECT run_id FROM dag_run WHERE dag_id = ? ORDER BY id DESC LIMIT 1) AND dag_id = ?",
        dag_id,
        dag_id,
    )
    return dict(sorted(rows))


def task_log_excerpt(output: str, task_id: str) -> str:
    """What a task logged between `dags test`'s start and end markers for it.

    Execution-API bookkeeping and traceback frames inside the venv (Airflow's
    own code) are left out, so the task's output and the error stand out.
    """
    start, end = (
        f"[DAG TEST] starting task_id={task_id} ",
        f"[DAG TEST] end task task_id={task_id} ",
    )
    block: list[str] = []
    inside = in_internal_frame = False
    for line in output.splitlines():
        if start in line:
            inside, block = True, []
        elif end in line:
            inside = False
        elif inside:
            if line.startswith('  File "'):
                in_internal_frame = f'"{sys.prefix}' in line
                if in_internal_frame:
                    continue
            elif in_internal_frame and line.startswith("    "):
                continue  # source line of an internal frame
            elif (
                any(noise in line for noise in LOG_NOISE)
                or f"filename={sys.prefix}" in line
            ):
                continue  # bookkeeping, or a warning logged from inside the venv
            block.append(line)
    return (
        tail("\n".join(block), LOG_EXCERPT_LINES)
        if block
        else tail(output, LOG_EXCERPT_LINES)
    )


def tail(text: str, n: int) -> str:
    return "\n".join("  " + line for line in text.rstrip().splitlines()[-n:])


if __name__ == "__main__":
    sys.exit(main())
