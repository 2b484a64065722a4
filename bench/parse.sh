#!/usr/bin/env bash
# Parse-time benchmark: how long Airflow's DagBag takes to fill a folder of dagfc output,
# compared with the same DAGs as dag-factory 1.1 YAML (with its loader file) and as
# hand-written Python: 100 DAGs of 10 tasks (BashOperator/EmptyOperator, a fan-out to
# three and one to two; default_args with owner, retries and retry_delay; a schedule,
# a start date and tags).
#
#   bash bench/parse.sh          (from the repository root)
#
# Steps: create or reuse the Airflow venv (tests/airflow/venv.sh: Airflow 3.3.2 and
# dag-factory 1.1.0); generate the three versions (bench/gen_parse.py) in a temp folder;
# build dagfc once in release mode and compile the dagf version; load each folder with
# DagBag and check that all three hold the DAGs of the generator's spec (ids, tasks,
# operators, commands, default_args, edges, schedule, start date, tags) with no import
# errors; then time DagBag(dag_folder=...) in a fresh Python process per measurement
# (bench/parse_dagbag.py), the three folders interleaved, 5 runs each: once as Python
# normally runs (the DAG files' bytecode cached in __pycache__ by a first, untimed
# parse) and once with no bytecode cache (every file compiled on every parse, as when
# the DAG folder is read-only). The dag-factory folder is timed twice: as it is, and with
# `import dagfactory` done before the clock starts (its YAML loading and DAG building
# alone). Prints a table with the median and best DagBag fill (in process, after
# importing Airflow) and whole-process time of each; any failure exits non-zero.
#
# Environment: BENCH_RUNS (default 5); BENCH_DAGS (default 100); BENCH_KEEP=1 keeps the
# temp folder; DAGFC=path uses that dagfc binary instead of building one.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bench="$repo/bench"
runs="${BENCH_RUNS:-5}"
dags="${BENCH_DAGS:-100}"
tasks_per_dag=10

die() {
    echo "bench/parse.sh: error: $*" >&2
    exit 1
}

tmp="$(mktemp -d "${TMPDIR:-/tmp}/dagf-parse.XXXXXX")"
if [[ "${BENCH_KEEP:-}" == 1 ]]; then
    echo "keeping $tmp" >&2
else
    trap 'rm -rf "$tmp"' EXIT
fi

# --- Airflow venv, dagfc ---------------------------------------------------------------
echo "creating or reusing the Airflow venv (tests/airflow/venv.sh)..." >&2
venv="$(bash "$repo/tests/airflow/venv.sh" | tail -n 1)" || die "cannot create the Airflow venv (tests/airflow/venv.sh failed)"
py="$venv/bin/python"
[[ -x "$py" ]] || die "no Python in the Airflow venv '$venv'"
"$py" -c 'import airflow, dagfactory' >/dev/null 2>&1 || die "$py cannot import airflow and dagfactory"
versions="$("$py" -c 'from importlib.metadata import version as v
print("Airflow", v("apache-airflow") + ", dag-factory", v("dag-factory"))')" || die "cannot read the installed versions"
helper_py="$(command -v python3)" || die "python3 not found"

if [[ -n "${DAGFC:-}" ]]; then
    dagfc="$DAGFC"
else
    echo "building dagfc (release)..." >&2
    (cd "$repo" && cargo build --release --quiet -p dagfc) || die "cargo build failed"
    dagfc="$repo/target/release/dagfc"
fi
[[ -x "$dagfc" ]] || die "$dagfc is not an executable"

# --- Generate the three folders ------------------------------------------------------------
"$helper_py" "$bench/gen_parse.py" "$tmp" --dags "$dags" || die "gen_parse.py failed"
"$dagfc" build -q --project "$tmp/dagf" --out "$tmp/dagfc" || die "dagfc cannot build the generated project"
# dagfc writes a hidden manifest beside the DAG files; DagBag ignores it.
for name in dagfc handwritten; do
    n="$(find "$tmp/$name" -name '*.py' | wc -l)"
    [[ "$n" -eq "$dags" ]] || die "$tmp/$name holds $n .py files, expected $dags"
done
folders=(dagfc dagfactory handwritten)
# Copies that no parse ever writes a __pycache__ into, for the no-bytecode-cache runs.
mkdir "$tmp/nopyc"
for name in "${folders[@]}"; do cp -r "$tmp/$name" "$tmp/nopyc/$name"; done

# --- Airflow's environment -------------------------------------------------------------------
export AIRFLOW_HOME="$tmp/airflow-home"
mkdir -p "$AIRFLOW_HOME"
export AIRFLOW__CORE__LOAD_EXAMPLES=False
# No network from dag-factory (it only reports on DAG runs, but be sure).
export AIRFLOW__DAG_FACTORY__ENABLE_TELEMETRY=False DO_NOT_TRACK=1 SCARF_NO_ANALYTICS=true

# --- Check: the same DAGs, no import errors -------------------------------------------------
echo "checking that the three folders load the same DAGs..." >&2
for name in "${folders[@]}"; do
    # Output goes to $tmp/NAME.log, whose last line says why, if this fails.
    (cd "$tmp" && PYTHONDONTWRITEBYTECODE=1 AIRFLOW__CORE__DAGS_FOLDER="$tmp/nopyc/$name" \
        "$py" "$bench/parse_dagbag.py" measure "$tmp/nopyc/$name" --describe "$tmp/$name.json" \
        --expect "$dags" "$((dags * tasks_per_dag))" >"$tmp/$name.log" 2>&1) \
        || die "the $name folder: $(tail -n 1 "$tmp/$name.log")"
done
"$helper_py" "$bench/parse_dagbag.py" compare "$tmp/spec.json" \
    dagfc="$tmp/dagfc.json" dagfactory="$tmp/dagfactory.json" handwritten="$tmp/handwritten.json" \
    || die "the three folders do not load the same DAGs"

# --- Time ---------------------------------------------------------------------------------------
# dagfactory_pre is the dag-factory folder with `import dagfactory` done before the clock
# starts: what dag-factory's YAML loading and DAG building cost, without its import.
# time_mode MODE DIR: one line per entry (see parse_dagbag.py), into $tmp/MODE.txt.
time_mode() {
    local mode="$1" dir="$2"
    echo "timing $runs DagBag fills per folder, interleaved (bytecode: $mode)..." >&2
    (cd "$tmp" && "$py" "$bench/parse_dagbag.py" time --runs "$runs" --bytecode "$mode" \
        dagfc="$dir/dagfc" dagfactory="$dir/dagfactory" dagfactory_pre="$dir/dagfactory:dagfactory" \
        handwritten="$dir/handwritten") >"$tmp/$mode.txt" \
        || die "timing failed (bytecode: $mode)"
}
time_mode cache "$tmp"
time_mode none "$tmp/nopyc"

# --- Report ---------------------------------------------------------------------------------------
ms() { awk -v s="$1" 'BEGIN { printf "%7.1f ms", s * 1000 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2fx", a / b }'; }
# row MODE NAME LABEL: a table row; sets bag_NAME, cpu_NAME and proc_NAME (medians) for
# the ratios.
row() {
    local mode="$1" name="$2" label="$3" _n bag_med bag_min cpu_med proc_med proc_min _usr _sys rss n_dags n_tasks
    read -r _n bag_med bag_min cpu_med proc_med proc_min _usr _sys rss n_dags n_tasks \
        < <(grep "^$name " "$tmp/$mode.txt") || die "no timing for $name ($mode)"
    [[ "$n_dags" -eq "$dags" && "$n_tasks" -eq $((dags * tasks_per_dag)) ]] \
        || die "$name loaded $n_dags DAGs and $n_tasks tasks in a timed run"
    printf -v "bag_$name" '%s' "$bag_med"
    printf -v "cpu_$name" '%s' "$cpu_med"
    printf -v "proc_$name" '%s' "$proc_med"
    printf '  %-32s%s %s %s  %s %s %s\n' "$label" "$(ms "$bag_med")" "$(ms "$bag_min")" "$(ms "$cpu_med")" \
        "$(ms "$proc_med")" "$(ms "$proc_min")" "$(printf '%5.0f MiB' "$rss")"
}
table() {
    local mode="$1" title="$2"
    echo "  $title"
    row "$mode" dagfc "dagfc output ($dags files)"
    row "$mode" dagfactory "dag-factory (1 YAML + loader)"
    row "$mode" dagfactory_pre "  the same, import excluded"
    row "$mode" handwritten "hand-written ($dags files)"
    printf '  %-32s%10s   CPU %s   whole process %s\n' "ratio dag-factory/dagfc" \
        "$(ratio "$bag_dagfactory" "$bag_dagfc")" "$(ratio "$cpu_dagfactory" "$cpu_dagfc")" \
        "$(ratio "$proc_dagfactory" "$proc_dagfc")"
    printf '  %-32s%10s   CPU %s\n' "  the same, import excluded" \
        "$(ratio "$bag_dagfactory_pre" "$bag_dagfc")" "$(ratio "$cpu_dagfactory_pre" "$cpu_dagfc")"
    printf '  %-32s%10s   CPU %s   whole process %s\n' "ratio hand-written/dagfc" \
        "$(ratio "$bag_handwritten" "$bag_dagfc")" "$(ratio "$cpu_handwritten" "$cpu_dagfc")" \
        "$(ratio "$proc_handwritten" "$proc_dagfc")"
}
cat <<EOF

dagf parse benchmark: $dags DAGs of $tasks_per_dag tasks per folder, $versions, nproc $(nproc), $runs runs
                                  DagBag fill (in process)             whole process        peak
                                wall median   wall min  CPU median   wall median   wall min     RSS
EOF
table cache "bytecode cached (__pycache__ written by a first parse):"
table none "no bytecode cache (every DAG file compiled on every parse):"
cat <<EOF
  checked: the same $dags dag ids, tasks, operators, commands, default_args, edges,
           schedules, start dates and tags in all three; 0 import errors
  python: $py
EOF
