#!/usr/bin/env bash
# The slow-factory benchmark (catalog entry 101.6.5): what a Python factory that reads
# its configs and calls an API while Airflow parses costs the DAG processor, against
# the same factory with caching and against the same DAGs from dagfc.
#
#   bash bench/factory_parse.sh          (from the repository root)
#
# Steps: create or reuse the Airflow venv (tests/airflow/venv.sh); serve a team API on
# 127.0.0.1 that answers after BENCH_LATENCY_MS (bench/api_server.py); write N pipelines
# as YAML files and the three versions (bench/gen_factory_parse.py); build the dagf
# version with dagfc (timed); load each folder with DagBag and check that all three hold
# the same DAGs (ids, tasks, commands, default_args, edges, schedules, start dates, tags)
# with no import errors; time DagBag(dag_folder=...) in a fresh Python process per
# measurement, the folders interleaved (bench/parse_dagbag.py time); then parse the slow
# folder again under a [core] dagbag_import_timeout of half its median parse time, as
# the DAG processor would, and report what it loaded. Any failure exits non-zero.
#
# Environment: BENCH_RUNS (default 5); BENCH_DAGS (default 100); BENCH_LATENCY_MS
# (default 20); BENCH_KEEP=1 keeps the temp folder; DAGFC=path uses that dagfc binary
# (default: target/release/dagfc if built, else a debug build).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bench="$repo/bench"
runs="${BENCH_RUNS:-5}"
dags="${BENCH_DAGS:-100}"
latency="${BENCH_LATENCY_MS:-20}"
tasks_per_dag=5

die() {
    echo "bench/factory_parse.sh: error: $*" >&2
    exit 1
}

tmp="$(mktemp -d "${TMPDIR:-/tmp}/dagf-factory-parse.XXXXXX")"
server=""
cleanup() {
    if [[ -n "$server" ]]; then kill "$server" 2>/dev/null || true; fi
    if [[ "${BENCH_KEEP:-}" != 1 ]]; then rm -rf "$tmp"; fi
}
trap cleanup EXIT
[[ "${BENCH_KEEP:-}" == 1 ]] && echo "keeping $tmp" >&2

echo "creating or reusing the Airflow venv (tests/airflow/venv.sh)..." >&2
venv="$(bash "$repo/tests/airflow/venv.sh" | tail -n 1)" || die "cannot create the Airflow venv"
py="$venv/bin/python"
"$py" -c 'import airflow, yaml' >/dev/null 2>&1 || die "$py cannot import airflow and yaml"
versions="$("$py" -c 'from importlib.metadata import version as v
print("Airflow", v("apache-airflow") + ", PyYAML", v("PyYAML"))')" || die "cannot read the installed versions"
helper_py="$(command -v python3)" || die "python3 not found"

if [[ -n "${DAGFC:-}" ]]; then
    dagfc="$DAGFC"
elif [[ -x "$repo/target/release/dagfc" ]]; then
    dagfc="$repo/target/release/dagfc"
else
    (cd "$repo" && cargo build --quiet -p dagfc) || die "cargo build failed"
    dagfc="$repo/target/debug/dagfc"
fi
[[ -x "$dagfc" ]] || die "$dagfc is not an executable"

# --- The API, the pipelines, the three versions ----------------------------------------
mkdir -p "$tmp/api"
"$helper_py" "$bench/api_server.py" "$tmp/api" "$tmp/port" --latency-ms "$latency" &
server=$!
for _ in $(seq 50); do [[ -s "$tmp/port" ]] && break; sleep 0.1; done
[[ -s "$tmp/port" ]] || die "the API server did not start"
api="http://127.0.0.1:$(cat "$tmp/port")"
rmdir "$tmp/api"
"$helper_py" "$bench/gen_factory_parse.py" "$tmp" --dags "$dags" --api "$api" || die "gen_factory_parse.py failed"
build_start=$(date +%s.%N)
"$dagfc" build -q --project "$tmp/dagf" --out "$tmp/dagfc" || die "dagfc cannot build the generated project"
build_s=$(awk -v a="$build_start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.3f", b - a }')

export AIRFLOW_HOME="$tmp/airflow-home"
mkdir -p "$AIRFLOW_HOME"
export AIRFLOW__CORE__LOAD_EXAMPLES=False
export FACTORY_CACHE="$tmp/teams-cache.json"
folders=(slow cached dagfc)

echo "checking that the three folders load the same DAGs..." >&2
for name in "${folders[@]}"; do
    (cd "$tmp" && AIRFLOW__CORE__DAGS_FOLDER="$tmp/$name" "$py" "$bench/parse_dagbag.py" measure "$tmp/$name" \
        --describe "$tmp/$name.json" --expect "$dags" "$((dags * tasks_per_dag))" >"$tmp/$name.log" 2>&1) \
        || die "the $name folder: $(tail -n 1 "$tmp/$name.log")"
done
"$helper_py" "$bench/parse_dagbag.py" compare "$tmp/slow.json" cached="$tmp/cached.json" dagfc="$tmp/dagfc.json" \
    || die "the three folders do not load the same DAGs"

echo "timing $runs DagBag fills per folder, interleaved..." >&2
(cd "$tmp" && "$py" "$bench/parse_dagbag.py" time --runs "$runs" \
    slow="$tmp/slow" cached="$tmp/cached" dagfc="$tmp/dagfc") >"$tmp/times.txt" || die "timing failed"

ms() { awk -v s="$1" 'BEGIN { printf "%8.1f ms", s * 1000 }'; }
field() { awk -v n="$1" -v k="$2" '$1 == n { print $k }' "$tmp/times.txt"; }
row() {
    printf '  %-34s%s %s %s  %s\n' "$2" "$(ms "$(field "$1" 2)")" "$(ms "$(field "$1" 3)")" \
        "$(ms "$(field "$1" 4)")" "$(ms "$(field "$1" 5)")"
}

# --- The parse under a timeout ------------------------------------------------------------
slow_s="$(field slow 2)"
timeout_s=$(awk -v s="$slow_s" 'BEGIN { printf "%.1f", (s / 2 < 0.1 ? 0.1 : s / 2) }')
last="$(cd "$tmp" && AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT="$timeout_s" AIRFLOW__CORE__DAGS_FOLDER="$tmp/slow" \
    "$py" "$bench/parse_dagbag.py" measure "$tmp/slow" 2>/dev/null | tail -n 1)" || die "the timed-out parse failed"
read -r t_dags t_errors < <("$helper_py" -c 'import json, sys
r = json.loads(sys.argv[1])
print(r["dags"], sum("import timeout" in e or "Timeout" in e for e in r["import_errors"].values()) or len(r["import_errors"]))' "$last")

per_hour() { awk -v s="$1" 'BEGIN { printf "%.0f s", s * 3600 / 30 }'; }
cat <<EOF

dagf slow-factory benchmark: $dags DAGs of $tasks_per_dag tasks, $versions, nproc $(nproc), $runs runs
API latency ${latency} ms per call; dagfc build of the dagf version: ${build_s} s (${dagfc#"$repo"/})
                                       DagBag fill (in process)            whole process
                                     wall median     wall min   CPU median    wall median
EOF
row slow "slow factory (1 file, $dags calls)"
row cached "the same, cached (C loader, TTL)"
row dagfc "dagfc output ($dags files)"
cat <<EOF
  ratio slow/dagfc                   $(awk -v a="$slow_s" -v b="$(field dagfc 2)" 'BEGIN { printf "%.2fx", a / b }')
  ratio cached/dagfc                 $(awk -v a="$(field cached 2)" -v b="$(field dagfc 2)" 'BEGIN { printf "%.2fx", a / b }')
  DagBag fill per hour at [dag_processor] min_file_process_interval = 30:
    slow $(per_hour "$slow_s"), cached $(per_hour "$(field cached 2)"), dagfc $(per_hour "$(field dagfc 2)"); API calls per hour: slow $((dags * 120)), cached 18 (3 teams, a call each when the 10-minute cache expires), dagfc 0
  the slow folder under [core] dagbag_import_timeout = $timeout_s: $t_dags DAGs loaded, $t_errors import error(s)
  checked: the same $dags dag ids, tasks, commands, default_args, edges, schedules,
           start dates and tags in all three; 0 import errors
EOF
