#!/usr/bin/env python3
"""Fill Airflow's DagBag from folders: time it, check what it loaded.

    python parse_dagbag.py measure FOLDER [--describe OUT.json] [--expect DAGS TASKS] [--preimport MODULE]
    python parse_dagbag.py compare SPEC.json NAME=DESCRIBED.json...
    python parse_dagbag.py time [--runs N] [--bytecode cache|none] NAME=FOLDER[:MODULE]...

`measure` (run with the Airflow venv's Python) imports Airflow's DagBag, then fills a
DagBag from FOLDER, timing only the construction (wall clock: time.perf_counter; CPU
time of the process: time.process_time, which waiting for a core on a busy machine does
not inflate), and prints one JSON line: {"dagbag_s", "dagbag_cpu_s", "import_s",
"dags", "tasks", "import_errors"}. With
--describe, it also writes every DAG's schedule, start date, tags, tasks (operator
class, bash_command, owner, retries, retry_delay) and edges to OUT.json. With
--expect, it fails (one line on stderr, exit 1) on any import error or on other
numbers of DAGs and tasks. With --preimport, MODULE is imported before the clock
starts (to tell a library's import time from its work).

`compare` checks that each described folder holds exactly the DAGs of SPEC.json (from
gen_parse.py); tags that dag-factory adds to every DAG ("dagfactory") are ignored.

`time` runs `measure` N times per folder, in a fresh Python process each time, and
interleaved (A1 B1 C1 A2 B2 C2 ...), so a slow phase of the machine hits every folder
alike, after one untimed run per folder (which warms the page cache and, with
`--bytecode cache`, writes the folder's __pycache__ as a first parse would). With
`--bytecode none` (PYTHONDONTWRITEBYTECODE=1), every run compiles every DAG file from
source, as when the DAG folder is read-only; a __pycache__ in the folder then fails the
script. It prints one line per folder: "NAME DAGBAG_MEDIAN DAGBAG_MIN DAGBAG_CPU_MEDIAN
PROC_MEDIAN PROC_MIN USER SYS RSS DAGS TASKS", in seconds (RSS: largest peak resident memory, MiB),
where PROC is the whole process (interpreter start, Airflow import, DagBag, exit) and
USER/SYS the medians of its CPU time. A run that fails, loads a different number of
DAGs than the first, or reports an import error fails the script. FOLDER:MODULE
measures FOLDER with --preimport MODULE.

The environment of the measured processes is this script's (the caller sets
AIRFLOW_HOME and the rest), plus AIRFLOW__CORE__DAGS_FOLDER set to the folder.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

T_START = time.perf_counter()


def measure(folder: str, describe: str | None, expect: list[int] | None, preimport: str | None) -> None:
    from airflow.dag_processing.dagbag import DagBag

    if preimport:
        __import__(preimport)

    c0, t0 = time.process_time(), time.perf_counter()
    bag = DagBag(dag_folder=folder)
    t1, c1 = time.perf_counter(), time.process_time()
    result = {
        "dagbag_s": t1 - t0,
        "dagbag_cpu_s": c1 - c0,
        "import_s": t0 - T_START,
        "dags": len(bag.dags),
        "tasks": sum(len(d.tasks) for d in bag.dags.values()),
        "import_errors": {k: v.strip().splitlines()[-1] for k, v in bag.import_errors.items()},
    }
    if describe:
        Path(describe).write_text(json.dumps(describe_bag(bag), indent=1, sort_keys=True) + "\n")
    # Airflow may log to stdout; the result is the last line.
    print("\n" + json.dumps(result), flush=True)
    if expect is None:
        return
    if result["import_errors"]:
        path, err = next(iter(result["import_errors"].items()))
        sys.exit(f"{len(result['import_errors'])} import errors, first: {path}: {err}")
    if [result["dags"], result["tasks"]] != expect:
        sys.exit(f"loaded {result['dags']} DAGs and {result['tasks']} tasks, expected {expect[0]} and {expect[1]}")


def describe_bag(bag) -> dict:
    out = {}
    for dag_id, dag in bag.dags.items():
        tasks = {}
        edges = []
        for t in dag.tasks:
            delay = t.retry_delay
            tasks[t.task_id] = {
                "operator": type(t).__name__,
                "bash_command": getattr(t, "bash_command", None),
                "owner": t.owner,
                "retries": t.retries,
                "retry_delay_s": delay.total_seconds() if delay is not None else None,
            }
            edges += [[t.task_id, d] for d in t.downstream_task_ids]
        out[dag_id] = {
            "schedule": dag.schedule if isinstance(dag.schedule, str) else repr(dag.schedule),
            "start_date": dag.start_date.isoformat() if dag.start_date else None,
            "tags": sorted(dag.tags),
            "tasks": tasks,
            "edges": sorted(edges),
        }
    return out


def compare(spec_path: str, described: list[str]) -> None:
    spec = json.loads(Path(spec_path).read_text())
    failed = False
    for item in described:
        name, _, path = item.partition("=")
        got = json.loads(Path(path).read_text())
        for d in got.values():
            d["tags"] = [t for t in d["tags"] if t != "dagfactory"]
        problems = []
        if set(got) != set(spec):
            missing, extra = sorted(set(spec) - set(got)), sorted(set(got) - set(spec))
            problems.append(f"dag ids differ: missing {missing[:5]}, unexpected {extra[:5]}")
        for dag_id in sorted(set(got) & set(spec)):
            want, have = spec[dag_id], got[dag_id]
            for key in ("schedule", "start_date", "tags", "edges", "tasks"):
                if want[key] != have[key]:
                    problems.append(f"{dag_id}: {key} differs: want {want[key]!r}, got {have[key]!r}")
        if problems:
            failed = True
            print(f"parse_dagbag.py: {name} does not match the spec ({len(problems)} problems):", file=sys.stderr)
            for p in problems[:5]:
                print(f"  {p}"[:400], file=sys.stderr)
    if failed:
        sys.exit(1)


def child_env(folder: str, bytecode: str) -> dict:
    env = dict(os.environ, AIRFLOW__CORE__DAGS_FOLDER=folder)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    if bytecode == "none":
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        if any(Path(folder).rglob("__pycache__")):
            sys.exit(f"parse_dagbag.py: {folder} holds a __pycache__, cannot time it without one")
    return env


def time_folders(runs: int, bytecode: str, folders: list[str]) -> None:
    named = []  # (name, folder, measure's argv)
    for f in folders:
        name, _, where = f.partition("=")
        folder, _, module = where.partition(":")
        argv = [sys.executable, __file__, "measure", folder] + (["--preimport", module] if module else [])
        named.append((name, folder, argv))
    for name, folder, argv in named:  # the untimed warm-up run
        subprocess.run(
            argv, env=child_env(folder, bytecode), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False
        )
    stats = {
        name: {"dagbag": [], "cpu": [], "proc": [], "user": [], "sys": [], "rss": 0.0, "dags": None, "tasks": None}
        for name, _, _ in named
    }
    for i in range(1, runs + 1):
        for name, folder, argv in named:
            env = child_env(folder, bytecode)
            with tempfile.TemporaryFile("w+") as out:
                t0 = time.perf_counter()
                p = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=env)
                _, status, r = os.wait4(p.pid, 0)  # this child's own resource use
                t1 = time.perf_counter()
                out.seek(0)
                text = out.read()
            code = os.waitstatus_to_exitcode(status)
            last = text.strip().splitlines()[-1] if text.strip() else ""
            if code != 0 or not last.startswith("{"):
                sys.stderr.write(text[-3000:])
                sys.exit(f"parse_dagbag.py: run {i} of {name} ({folder}) exited with {code}")
            res = json.loads(last)
            if res["import_errors"]:
                first = next(iter(res["import_errors"].items()))
                sys.exit(f"parse_dagbag.py: {name}: {len(res['import_errors'])} import errors, first: {first}")
            s = stats[name]
            if s["dags"] is not None and (res["dags"], res["tasks"]) != (s["dags"], s["tasks"]):
                sys.exit(f"parse_dagbag.py: {name}: run {i} loaded {res['dags']} DAGs, run 1 {s['dags']}")
            s["dags"], s["tasks"] = res["dags"], res["tasks"]
            s["dagbag"].append(res["dagbag_s"])
            s["cpu"].append(res["dagbag_cpu_s"])
            s["proc"].append(t1 - t0)
            s["user"].append(r.ru_utime)
            s["sys"].append(r.ru_stime)
            s["rss"] = max(s["rss"], r.ru_maxrss / 1024)  # KiB on Linux
    med = statistics.median
    for name, s in stats.items():
        nums = [
            med(s["dagbag"]),
            min(s["dagbag"]),
            med(s["cpu"]),
            med(s["proc"]),
            min(s["proc"]),
            med(s["user"]),
            med(s["sys"]),
            s["rss"],
        ]
        print(name, " ".join(f"{x:.4f}" for x in nums), s["dags"], s["tasks"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("measure")
    m.add_argument("folder")
    m.add_argument("--describe")
    m.add_argument("--expect", type=int, nargs=2, metavar=("DAGS", "TASKS"))
    m.add_argument("--preimport")
    c = sub.add_parser("compare")
    c.add_argument("spec")
    c.add_argument("described", nargs="+")
    t = sub.add_parser("time")
    t.add_argument("--runs", type=int, default=5)
    t.add_argument("--bytecode", choices=["cache", "none"], default="cache")
    t.add_argument("folders", nargs="+")
    opts = ap.parse_args()
    if opts.cmd == "measure":
        measure(opts.folder, opts.describe, opts.expect, opts.preimport)
    elif opts.cmd == "compare":
        compare(opts.spec, opts.described)
    else:
        time_folders(opts.runs, opts.bytecode, opts.folders)


if __name__ == "__main__":
    main()
