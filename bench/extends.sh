#!/usr/bin/env bash
# What long chains cost `dagfc check`: each should cost in proportion to its length.
#   extends: factories f0 .. fN-1, each extending the one before, adding a task after
#            its parent's and a tag (`tags += [...]`), and one dag made from the last;
#   append:  one dag whose body appends to its tags N times (`tags += ["tI"]`).
#
#   bash bench/extends.sh        (from the repository root; BENCH_RUNS, BENCH_EXTENDS,
#                                 BENCH_APPENDS, DAGFC)
#
# Builds dagfc in release mode (DAGFC=path measures another binary instead), then for
# each size runs BENCH_RUNS (default 3) `dagfc check`s under /usr/bin/time and prints
# the median wall time, the median CPU time (user + system) and the largest resident
# size; a check that fails shows its first error code (E0210 is the evaluator's step
# limit) instead of "ok".
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
runs="${BENCH_RUNS:-3}"
read -r -a extends_sizes <<<"${BENCH_EXTENDS:-300 600 1200 2400 4800}"
read -r -a append_sizes <<<"${BENCH_APPENDS:-5000 10000 20000 40000}"

die() {
    echo "bench/extends.sh: error: $*" >&2
    exit 1
}

[[ -x /usr/bin/time ]] || die "needs GNU time at /usr/bin/time"
if [[ -z "${DAGFC:-}" ]]; then
    (cd "$repo" && cargo build --release --quiet -p dagfc) || die "cargo build failed"
    DAGFC="$repo/target/release/dagfc"
fi

tmp="$(mktemp -d "${TMPDIR:-/tmp}/dagf-bench-extends.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

# project NAME: a project whose one source file is read from stdin.
project() {
    local dir="$tmp/$1"
    mkdir -p "$dir/src"
    printf '[project]\nname = "%s"\nsrc = ["src"]\nout = "dags"\n' "$1" >"$dir/dagf.toml"
    cat >"$dir/src/main.dagf"
}

extends_project() {
    local n="$1"
    {
        printf 'factory f0(name: str) {\n    start = 2024-01-01\n    tags = [name]\n    task t0: empty\n}\n'
        for ((i = 1; i < n; i++)); do
            printf 'factory f%d(name: str) extends f%d(name = name) {\n' "$i" "$((i - 1))"
            printf '    tags += ["t%d"]\n    task t%d: empty\n    t%d >> t%d\n}\n' "$i" "$i" "$((i - 1))" "$i"
        done
        printf 'dag chain: f%d(name = "x")\n' "$((n - 1))"
    } | project "extends-$n"
}

append_project() {
    local n="$1"
    {
        printf 'dag many {\n    start = 2024-01-01\n    tags = ["t0"]\n'
        for ((i = 1; i < n; i++)); do
            printf '    tags += ["t%d"]\n' "$i"
        done
        printf '    task a: empty\n}\n'
    } | project "append-$n"
}

median() { sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

# measure SHAPE N: one line of the table.
measure() {
    local shape="$1" n="$2" walls=() cpus=() rss=0 result=ok
    for ((r = 0; r < runs; r++)); do
        if ! /usr/bin/time -f '%e %U %S %M' -o "$tmp/time.txt" \
            "$DAGFC" check --quiet --color never --project "$tmp/$shape-$n" >"$tmp/out.txt" 2>&1; then
            result="$(grep -o -m1 '^\[[EW][0-9]*\]' "$tmp/out.txt" || echo failed)"
        fi
        # The last line: before it, time says when the command failed.
        read -r wall user sys kb < <(tail -n 1 "$tmp/time.txt")
        walls+=("$wall")
        cpus+=("$(awk -v u="$user" -v s="$sys" 'BEGIN { print u + s }')")
        ((kb > rss)) && rss="$kb"
    done
    printf '%-8s %6d %10.3f s %10.3f s %8d MiB  %s\n' "$shape" "$n" \
        "$(printf '%s\n' "${walls[@]}" | median)" "$(printf '%s\n' "${cpus[@]}" | median)" \
        "$((rss / 1024))" "$result"
}

for n in "${extends_sizes[@]}"; do extends_project "$n"; done
for n in "${append_sizes[@]}"; do append_project "$n"; done

printf '%s: %s runs each, nproc %s\n' "$(basename "$DAGFC")" "$runs" "$(nproc)"
printf '%-8s %6s %12s %12s %12s  %s\n' shape N "wall median" "CPU median" "max RSS" result
for n in "${extends_sizes[@]}"; do measure extends "$n"; done
for n in "${append_sizes[@]}"; do measure append "$n"; done
