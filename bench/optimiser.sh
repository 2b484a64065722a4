#!/usr/bin/env bash
# What the optimiser costs: `dagfc build` at -O0 and at -O1 on one DAG of 20,000 tasks,
# in five shapes:
#   chain:  t0 >> t1 >> ... >> t19999 (no edge is implied by others);
#   fan:    start >> [t0 .. t19999] >> end (none either);
#   fan+:   the fan and start >> end, which the optimiser drops;
#   ladder: the chain plus ti >> t(i+2) for every i: 19,998 edges implied by others,
#           each of which the optimiser has to decide (and keeps: t(i-1) >> t(i+1)
#           joins from outside);
#   star:   the chain plus t0 >> ti for every i: 19,998 edges it could drop, each
#           decided by looking at most of the DAG, so the budgets decide how many.
#
#   bash bench/optimiser.sh      (from the repository root; BENCH_TASKS, BENCH_RUNS)
#
# Builds dagfc in release mode, then, for each shape and level, runs BENCH_RUNS (default
# 3) builds into fresh folders under /usr/bin/time -v and prints the median wall time,
# the largest resident size, and the edges left in the DAG. DAGFC=path measures
# another dagfc binary instead.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
n="${BENCH_TASKS:-20000}"
runs="${BENCH_RUNS:-3}"

die() {
    echo "bench/optimiser.sh: error: $*" >&2
    exit 1
}

[[ -x /usr/bin/time ]] || die "needs GNU time at /usr/bin/time"
if [[ -z "${DAGFC:-}" ]]; then
    (cd "$repo" && cargo build --release --quiet -p dagfc) || die "cargo build failed"
    DAGFC="$repo/target/release/dagfc"
fi

tmp="$(mktemp -d "${TMPDIR:-/tmp}/dagf-bench-opt.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

project() {
    local dir="$tmp/$1"
    mkdir -p "$dir/src"
    printf '[project]\nname = "%s"\nsrc = ["src"]\nout = "dags"\n' "$1" >"$dir/dagf.toml"
    cat >"$dir/src/main.dagf"
}

project chain <<EOF
dag chain {
    for i in range($n) {
        task "t\${i}": empty
    }
    for i in range($((n - 1))) {
        "t\${i}" >> "t\${i + 1}"
    }
}
EOF

project fan <<EOF
dag fan {
    task start: empty
    task end: empty
    for i in range($n) {
        start >> task "t\${i}": empty >> end
    }
}
EOF

project fan+ <<EOF
dag fan {
    task start: empty
    task end: empty
    for i in range($n) {
        start >> task "t\${i}": empty >> end
    }
    start >> end
}
EOF

project star <<EOF
dag star {
    for i in range($n) {
        task "t\${i}": empty
    }
    for i in range($((n - 1))) {
        "t\${i}" >> "t\${i + 1}"
    }
    for i in range(2, $n) {
        t0 >> "t\${i}"
    }
}
EOF

project ladder <<EOF
dag ladder {
    for i in range($n) {
        task "t\${i}": empty
    }
    for i in range($((n - 1))) {
        "t\${i}" >> "t\${i + 1}"
    }
    for i in range($((n - 2))) {
        "t\${i}" >> "t\${i + 2}"
    }
}
EOF

printf '%s: %s tasks per DAG, %s runs each, nproc %s\n' "$(basename "$DAGFC")" "$n" "$runs" "$(nproc)"
printf '%-8s %-4s %12s %12s %10s\n' shape opt "wall median" "max RSS" edges
for shape in chain fan fan+ ladder star; do
    for level in -O0 -O1; do
        walls=()
        rss=0
        for ((r = 0; r < runs; r++)); do
            out="$tmp/out-$shape$level-$r"
            /usr/bin/time -v "$DAGFC" build "$level" --quiet --out "$out" \
                --project "$tmp/$shape" 2>"$tmp/time.txt" >/dev/null \
                || die "dagfc build $level failed on $shape: $(tail -5 "$tmp/time.txt")"
            wall="$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$tmp/time.txt")"
            # m:ss.cc (or h:mm:ss) to seconds.
            walls+=("$(awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; print s }' <<<"$wall")")
            kb="$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$tmp/time.txt")"
            ((kb > rss)) && rss="$kb"
        done
        median="$(printf '%s\n' "${walls[@]}" | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')"
        edges="$("$DAGFC" build "$level" --emit ir --project "$tmp/$shape" | grep -c '^  [^ ]* >> [^ ]*$' || true)"
        printf '%-8s %-4s %10.3f s %8d MiB %10s\n' "$shape" "$level" "$median" "$((rss / 1024))" "$edges"
    done
done
