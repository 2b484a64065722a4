#!/usr/bin/env python3
"""Generate the slow-factory benchmark's folders: the same DAGs from a Python factory
that does its work while Airflow parses, from the same factory with caching, and from
dagfc.

    python3 bench/gen_factory_parse.py DIR --dags 100 --api http://127.0.0.1:PORT

Writes, for N pipelines (one YAML file each, as `configs/*.yaml` folders usually are)
and a team API (`DIR/api/teams/TEAM.json`: the owner and retries of a team, which the
factory asks for once per pipeline, as a factory that looks up an owner does):

- DIR/configs/NAME.yaml: the pipelines;
- DIR/api/teams/TEAM.json: the API's answers (bench/factory_parse.sh serves DIR/api);
- DIR/slow/factory_dags.py: the anti-pattern: at every parse, lists the YAML folder,
  loads each file with PyYAML's pure-Python loader and asks the API for the pipeline's
  team, then builds the DAG;
- DIR/cached/factory_dags.py: the same factory made cheaper in the ways a Python
  project can: PyYAML's C loader, each team asked once per parse, and the API's answers
  kept in a cache file for 10 minutes (so a parse within that time makes no call);
- DIR/dagf/: a dagf project reading the same YAML files and the same answers (as JSON
  files: dagfc reads them while it builds), for `dagfc build --project DIR/dagf --out
  DIR/dagfc`.

Each DAG: extract >> transform >> load >> [report, notify] (BashOperator), a schedule, a
start date, tags [the source, the team], default_args with the team's owner and retries.
Standard library only. Output is deterministic.
"""

import argparse
import json
import shutil
from pathlib import Path

SOURCES = ["crm", "billing", "erp", "web", "ads", "pos"]
SCHEDULES = ["@daily", "@hourly", "0 3 * * *", "*/15 * * * *"]
TEAMS = {"data": ("data-eng", 2), "analytics": ("analytics", 1), "platform": ("platform-ops", 3)}
TASKS = ["extract", "transform", "load", "report", "notify"]

FACTORY_HEAD = '''"""The pipelines of configs/*.yaml, one DAG each: {what}"""

import json
import os
import time
import urllib.request
from datetime import datetime, timedelta, timezone
from pathlib import Path

import yaml
from airflow.providers.standard.operators.bash import BashOperator
from airflow.sdk import DAG

CONFIGS = Path({configs!r})
API = {api!r}


def build(spec, team):
    with DAG(
        dag_id=spec["name"],
        schedule=spec["schedule"],
        start_date=datetime(2024, 1, 1, tzinfo=timezone.utc),
        catchup=False,
        tags=[spec["source"], spec["team"]],
        default_args={{"owner": team["owner"], "retries": team["retries"], "retry_delay": timedelta(minutes=5)}},
    ) as dag:
        tasks = {{
            t: BashOperator(task_id=t, bash_command=f"{{t}} --source {{spec['source']}} --date {{{{{{{{ ds }}}}}}}}")
            for t in {tasks!r}
        }}
        tasks["extract"] >> tasks["transform"] >> tasks["load"] >> [tasks["report"], tasks["notify"]]
    return dag

'''

SLOW = '''
def team_of(name):
    # One call per pipeline, while the file is parsed.
    with urllib.request.urlopen(f"{API}/teams/{name}.json", timeout=10) as answer:
        return json.load(answer)


for path in sorted(CONFIGS.glob("*.yaml")):
    spec = yaml.load(path.read_text(), Loader=yaml.SafeLoader)
    globals()[spec["name"]] = build(spec, team_of(spec["team"]))
'''

CACHED = '''
CACHE = Path(os.environ.get("FACTORY_CACHE", "/tmp/factory_dags_teams.json"))
TTL_S = 600


def teams(names):
    # The answers of the last 10 minutes, from a file; the API only past that.
    try:
        kept = json.loads(CACHE.read_text())
        if time.time() - kept["at"] < TTL_S and set(names) <= set(kept["teams"]):
            return kept["teams"]
    except (OSError, ValueError, KeyError):
        pass
    got = {}
    for name in sorted(names):
        with urllib.request.urlopen(f"{API}/teams/{name}.json", timeout=10) as answer:
            got[name] = json.load(answer)
    CACHE.write_text(json.dumps({"at": time.time(), "teams": got}))
    return got


specs = [yaml.load(p.read_text(), Loader=yaml.CSafeLoader) for p in sorted(CONFIGS.glob("*.yaml"))]
known = teams({s["team"] for s in specs})
for spec in specs:
    globals()[spec["name"]] = build(spec, known[spec["team"]])
'''

DAGF = '''/// One pipeline, as `configs/NAME.yaml` describes it.
type Pipeline = {{
    name: str matches "^[a-z0-9_]+$",
    source: str,
    schedule: schedule,
    team: str,
}}

/// What the team API answers for a team.
type Team = {{ owner: str, retries: int in 0..=5 }}
type Teams = {{ {team_fields} }}

source pipelines: list<Pipeline> = yaml("configs/*.yaml")
source teams: Teams = json("api/teams.json")

factory pipeline(spec: Pipeline) {{
    let team = teams[spec.team]
    schedule = spec.schedule
    start = 2024-01-01
    catchup = false
    tags = [spec.source, spec.team]
    default_args {{ owner = team.owner, retries = team.retries, retry_delay = 5m }}
{tasks}
    extract >> transform >> load >> [report, notify]
}}

for p in pipelines {{
    dag "${{p.name}}": pipeline(spec = p)
}}
'''


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dir")
    ap.add_argument("--dags", type=int, default=100)
    ap.add_argument("--api", required=True)
    opts = ap.parse_args()
    root = Path(opts.dir)
    configs = root / "configs"
    configs.mkdir(parents=True)
    for i in range(opts.dags):
        source = SOURCES[i % len(SOURCES)]
        team = sorted(TEAMS)[i % len(TEAMS)]
        schedule = SCHEDULES[i % len(SCHEDULES)]
        (configs / f"p{i:04d}.yaml").write_text(
            f"name: {source}_{i:04d}\nsource: {source}\nschedule: {json.dumps(schedule)}\nteam: {team}\n"
        )
    (root / "api/teams").mkdir(parents=True)
    answers = {name: {"owner": owner, "retries": retries} for name, (owner, retries) in TEAMS.items()}
    for name, answer in answers.items():
        (root / f"api/teams/{name}.json").write_text(json.dumps(answer) + "\n")
    head = {"configs": str(configs.resolve()), "api": opts.api, "tasks": TASKS}
    for folder, body, what in [
        ("slow", SLOW, "configs and the team API read at every parse."),
        ("cached", CACHED, "the same, with the C loader and a 10-minute cache of the API's answers."),
    ]:
        (root / folder).mkdir()
        (root / folder / "factory_dags.py").write_text(FACTORY_HEAD.format(what=what, **head) + body)
    dagf = root / "dagf"
    (dagf / "src/api").mkdir(parents=True)
    (dagf / "dagf.toml").write_text('[project]\nsrc = ["src"]\nout = "dags"\n')
    shutil.copytree(configs, dagf / "src/configs")
    (dagf / "src/api/teams.json").write_text(json.dumps(answers, indent=1) + "\n")
    tasks = "\n".join(
        f'    task {t}: bash {{ bash_command = "{t} --source ${{spec.source}} --date {{{{ ds }}}}" }}' for t in TASKS
    )
    fields = ", ".join(f"{name}: Team" for name in sorted(TEAMS))
    (dagf / "src/pipelines.dagf").write_text(DAGF.format(team_fields=fields, tasks=tasks))


if __name__ == "__main__":
    main()
