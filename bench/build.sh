#!/usr/bin/env bash
# Build benchmark: dagfc versus the usual alternative (a Jinja2 template rendered from
# Python), on two projects made from one factory of 10 tasks:
#   factory: 1,000 DAGs;
#   tenants: 1,000 tenants of the kind in bench/customer.dagf with 10 DAGs each
#            (10,000 DAGs, 100,000 tasks, one folder per tenant).
#
#   bash bench/build.sh          (from the repository root;
#                                 BENCH_ONLY=factory|tenants|check|incremental)
#
# Steps, per project: generate it (bench/gen.py) in a temp folder; build dagfc once in
# release mode; time 5 cold `dagfc build`s, each into a fresh folder; time 5
# whole-process runs of bench/render_jinja.py, each into a fresh folder; check that
# every output holds the same files, byte-identical to dagfc's first build; time a
# rebuild with nothing changed and a few partial pipelines (check, --emit ir/python),
# and print a table with the peak memory of each tool. Any failure exits non-zero.
#
# Environment: BENCH_RUNS (default 5); BENCH_KEEP=1 keeps the temp folder; TMPDIR picks
# where it goes. Creating the files costs both tools the same kernel time, which on some
# file systems dominates and varies a lot: ext4 without a journal does not reuse inodes
# freed in the last one to six minutes and scans past them on every file it creates, so
# right after many deletions (this script's own cleanup, for one) both tools take seconds.
# The table shows CPU user/sys so the tools' own work stays visible; TMPDIR=/dev/shm
# measures them without the disk.
#
# How fast Airflow parses dagfc's output (against dag-factory and hand-written DAGs) is
# measured by bench/parse.sh.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bench="$repo/bench"
runs="${BENCH_RUNS:-5}"
tasks_per_dag=10

die() {
    echo "bench/build.sh: error: $*" >&2
    exit 1
}

tmp="$(mktemp -d "${TMPDIR:-/tmp}/dagf-bench.XXXXXX")"
if [[ "${BENCH_KEEP:-}" == 1 ]]; then
    echo "keeping $tmp" >&2
else
    trap 'rm -rf "$tmp"' EXIT
fi

# --- Python with jinja2 -------------------------------------------------------------
# The Airflow venv's interpreter is what an Airflow shop would render with; otherwise
# python3 if it has jinja2; otherwise a private venv under target/ (never a global install).
pick_python() {
    local venv="$repo/target/bench-venv"
    for py in "$repo/target/airflow-venv/bin/python" "$venv/bin/python" python3; do
        if command -v "$py" >/dev/null && "$py" -c 'import jinja2' 2>/dev/null; then
            echo "$py"
            return
        fi
    done
    echo "installing jinja2 into $venv" >&2
    python3 -m venv "$venv" >&2 && "$venv/bin/pip" install --quiet jinja2 >&2 \
        || die "cannot create $venv with jinja2"
    echo "$venv/bin/python"
}
py="$(pick_python)"
# Helpers (generator, timer) need only the standard library.
helper_py="$(command -v python3)" || die "python3 not found"

# --- Build dagfc once -----------------------------------------------------------------
echo "building dagfc (release)..." >&2
(cd "$repo" && cargo build --release --quiet -p dagfc) || die "cargo build failed"
dagfc="${CARGO_TARGET_DIR:-$repo/target}/release/dagfc"
[[ -x "$dagfc" ]] || die "$dagfc missing after cargo build"

timeit() { "$helper_py" "$bench/timing.py" --runs "$runs" "$@"; }
ms() { awk -v s="$1" 'BEGIN { printf "%7.1f ms", s * 1000 }'; }

# bench_project LABEL DAGS GEN_ARGS...: one project, timed and verified, and its table.
bench_project() {
local label="$1" dags="$2"
shift 2
# --- Generate the project ---------------------------------------------------------------
local proj="$tmp/$label"
"$helper_py" "$bench/gen.py" "$proj" "$@" || die "gen.py failed"
# One untimed build and render each: fail early (with diagnostics) if something is
# broken, and warm the page cache (binary, interpreter, jinja2's modules) so that every
# timed run starts from the same state.
"$dagfc" build -q --project "$proj" --out "$tmp/$label-warmup-dagfc" || die "dagfc cannot build the generated project"
"$py" "$bench/render_jinja.py" "$bench/pipeline.py.j2" "$proj/params.json" "$tmp/$label-warmup-jinja" \
    || die "the Jinja2 renderer failed"

# --- Time -----------------------------------------------------------------------------
# Cold builds and renders alternate (see timing.py), each into a fresh empty folder and
# without the module cache (DAGF_CACHE=off; bench_incremental measures what it saves).
echo "timing $runs cold dagfc builds and $runs Jinja2 renders ($py)..." >&2
local runs_dir="$tmp/$label-runs"
mkdir "$runs_dir"
{
    read -r _ dagfc_med dagfc_min dagfc_usr dagfc_sys dagfc_rss _ \
        && read -r _ jinja_med jinja_min jinja_usr jinja_sys jinja_rss _
} < <(timeit --fresh "$runs_dir" -- \
    dagfc env DAGF_CACHE=off "$dagfc" build -q --project "$proj" --out "{out}" ::: \
    jinja "$py" "$bench/render_jinja.py" "$bench/pipeline.py.j2" "$proj/params.json" "{out}") \
    || die "timing the cold builds failed"

echo "timing rebuilds and partial pipelines..." >&2
# rebuild: nothing changed, so dagfc reads every existing file, finds it equal and writes
# none. check: load + parse + check only; --emit ir adds the IR passes; --emit python
# adds code generation, but writes no files.
{
    read -r _ rebuild_med rebuild_min rebuild_usr rebuild_sys _ && read -r _ check_med _ \
        && read -r _ ir_med _ && read -r _ pyemit_med _
} < <(timeit -- \
    rebuild "$dagfc" build -q --project "$proj" --out "$runs_dir/dagfc.1" ::: \
    check env DAGF_CACHE=off "$dagfc" check -q --project "$proj" ::: \
    ir "$dagfc" build -q --project "$proj" --emit ir ::: \
    python "$dagfc" build -q --project "$proj" --emit python) \
    || die "timing the rebuilds failed"

# --- Verify -----------------------------------------------------------------------------
count_py() { find "$1" -name '*.py' -type f | wc -l; }
local reference="$runs_dir/dagfc.1"
for i in $(seq 1 "$runs"); do
    for out in "$runs_dir/dagfc.$i" "$runs_dir/jinja.$i"; do
        n="$(count_py "$out")"
        [[ "$n" -eq "$dags" ]] || die "$out holds $n .py files, expected $dags"
        # dagfc also writes a hidden manifest; the Jinja2 renderer has no such thing.
        if ! diff -r -x .dagf-manifest.json "$reference" "$out" >"$tmp/diff.txt"; then
            echo "bench/build.sh: $out differs from $reference:" >&2
            head -n 40 "$tmp/diff.txt" >&2
            die "outputs are not byte-identical"
        fi
    done
done
local tasks
tasks="$(find "$reference" -name '*.py' -exec cat {} + | grep -c '^    [a-z_0-9]* = [A-Za-z]*Operator($')"
[[ "$tasks" -eq $((dags * tasks_per_dag)) ]] || die "found $tasks tasks, expected $((dags * tasks_per_dag))"

# --- Report -----------------------------------------------------------------------------
local ratio cpu_ratio fs
ratio="$(awk -v j="$jinja_med" -v d="$dagfc_med" 'BEGIN { printf "%.2fx", j / d }')"
cpu_ratio="$(awk -v ju="$jinja_usr" -v js="$jinja_sys" -v du="$dagfc_usr" -v ds="$dagfc_sys" \
    'BEGIN { printf "%.2fx", (ju + js) / (du + ds) }')"
fs="$(stat -f -c %T "$tmp")"
cat <<EOF

dagf build benchmark ($label): $dags DAGs, $tasks tasks, $(find "$proj/src" -name '*.dagf' | wc -l) source files, nproc $(nproc), $runs runs, output on $fs
                                  wall median   wall min   CPU user    CPU sys
  dagfc build, cold               $(ms "$dagfc_med") $(ms "$dagfc_min") $(ms "$dagfc_usr") $(ms "$dagfc_sys")
  Jinja2 render (whole process)   $(ms "$jinja_med") $(ms "$jinja_min") $(ms "$jinja_usr") $(ms "$jinja_sys")
  ratio jinja2/dagfc                $(printf '%10s' "$ratio")   (CPU user+sys: $cpu_ratio)
  dagfc rebuild, nothing changed  $(ms "$rebuild_med") $(ms "$rebuild_min") $(ms "$rebuild_usr") $(ms "$rebuild_sys")
  dagfc stages (wall medians): check $(ms "$check_med"), --emit ir $(ms "$ir_med"), --emit python $(ms "$pyemit_med")
  peak memory (max RSS)           dagfc $(printf '%.0f' "$dagfc_rss") MiB, Jinja2 $(printf '%.0f' "$jinja_rss") MiB
  outputs: $dags files each, byte-identical (dagfc x$runs, Jinja2 x$runs)
  python: $py
EOF
}

# bench_check: `dagfc check` of a one-file project (examples/hello), the edit-check loop
# of a small project, beside the start-up of a bare Python interpreter, the floor of any
# checker written in Python (dag-factory, a pytest of a DagBag). Target: under 10 ms.
bench_check() {
local hello="$tmp/hello"
cp -r "$repo/examples/hello" "$hello"
rm -rf "$hello/.dagf-cache" "$hello/dags"
"$dagfc" check -q --project "$hello" || die "dagfc cannot check examples/hello"
# The interpreter itself, not a launcher script in front of it (pyenv's shims are one).
local real_py
real_py="$("$helper_py" -c 'import sys; print(sys.executable)')"
local check_runs=$((runs * 4))
echo "timing $check_runs one-file checks..." >&2
{
    read -r _ c_med c_min c_usr c_sys c_rss _ && read -r _ p_med p_min p_usr p_sys _ _
} < <("$helper_py" "$bench/timing.py" --runs "$check_runs" -- \
    check "$dagfc" check -q --project "$hello" ::: \
    python "$real_py" -S -c pass) || die "timing the one-file checks failed"
cat <<EOF

dagf check benchmark (one file): examples/hello, 1 DAG, nproc $(nproc), $check_runs runs
                                  wall median   wall min   CPU user    CPU sys
  dagfc check                     $(ms "$c_med") $(ms "$c_min") $(ms "$c_usr") $(ms "$c_sys")
  python3 -S -c pass (start-up)   $(ms "$p_med") $(ms "$p_min") $(ms "$p_usr") $(ms "$p_sys")
  peak memory (max RSS)           dagfc $(printf '%.0f' "$c_rss") MiB
EOF
}

# bench_incremental: the tenants project built cold (no module cache, a fresh folder),
# then, with the cache of the last build, rebuilt after an edit of ONE instance (one dag
# changes) and checked after the same kind of edit, each run after an edit of its own
# (bench/edit_instance.py, untimed). The output after the edits must equal a cold
# build's, byte for byte.
bench_incremental() {
local proj="$tmp/incremental"
"$helper_py" "$bench/gen.py" "$proj" --dags 10 --files 100 --tenants 1000 \
    || die "cannot generate the incremental project"
local runs_dir="$tmp/incremental-runs" out="$tmp/incremental-out"
mkdir "$runs_dir"
local edit="$helper_py $bench/edit_instance.py $proj/src/tenants_42.dagf"
echo "timing $runs cold builds, one-instance rebuilds and one-file checks..." >&2
{
    read -r _ cold_med cold_min cold_usr cold_sys _
} < <(timeit --fresh "$runs_dir" -- \
    cold env DAGF_CACHE=off "$dagfc" build -q --project "$proj" --out "{out}") \
    || die "timing the cold builds failed"
"$dagfc" build -q --project "$proj" --out "$out" || die "the first cached build failed"
"$dagfc" check -q --project "$proj" || die "the first cached check failed"
{
    read -r _ edit_med edit_min edit_usr edit_sys _ && read -r _ chk_med chk_min chk_usr chk_sys _
} < <("$helper_py" "$bench/timing.py" --runs "$runs" --before "$edit {n}" -- \
    edit "$dagfc" build -q --project "$proj" --out "$out" ::: \
    check "$dagfc" check -q --project "$proj") \
    || die "timing the incremental builds failed"
# What one more edit writes, and whether the folder is what a cold build makes.
$edit last || die "the last edit failed"
local summary
summary="$("$dagfc" build --project "$proj" --out "$out" 2>&1 | tail -n 1)"
DAGF_CACHE=off "$dagfc" build -q --project "$proj" --out "$tmp/incremental-clean" \
    || die "the clean build failed"
diff -r -x .dagf-manifest.json "$tmp/incremental-clean" "$out" >"$tmp/diff.txt" || {
    head -n 40 "$tmp/diff.txt" >&2
    die "the incremental output differs from a clean build"
}
local share
share="$(awk -v a="$edit_usr" -v b="$edit_sys" -v c="$cold_usr" -v d="$cold_sys" \
    'BEGIN { printf "%.1f%%", 100 * (a + b) / (c + d) }')"
cat <<EOT

dagf incremental benchmark (tenants): 10000 DAGs in 1000 tenant folders, 102 source files, nproc $(nproc), $runs runs, output on $(stat -f -c %T "$tmp")
                                  wall median   wall min   CPU user    CPU sys
  dagfc build, cold (no cache)    $(ms "$cold_med") $(ms "$cold_min") $(ms "$cold_usr") $(ms "$cold_sys")
  dagfc build, 1 instance edited  $(ms "$edit_med") $(ms "$edit_min") $(ms "$edit_usr") $(ms "$edit_sys")
  dagfc check, 1 file edited      $(ms "$chk_med") $(ms "$chk_min") $(ms "$chk_usr") $(ms "$chk_sys")
  1-instance rebuild / cold build, CPU user+sys: $share
  last edit: $summary
  output after the edits: byte-identical to a cold build's
EOT
}

only="${BENCH_ONLY:-}"
if [[ -z "$only" || "$only" == factory ]]; then
    bench_project factory 1000 --dags 1000 --files 10
fi
if [[ -z "$only" || "$only" == tenants ]]; then
    bench_project tenants 10000 --dags 10 --files 100 --tenants 1000
fi
if [[ -z "$only" || "$only" == check ]]; then
    bench_check
fi
if [[ -z "$only" || "$only" == incremental ]]; then
    bench_incremental
fi
