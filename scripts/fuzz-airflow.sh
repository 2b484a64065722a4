#!/usr/bin/env bash
# Runs the oracle (crates/dagfc/tests/oracle.rs) with new seeds for MINUTES minutes:
# random programs are compiled and everything dagfc accepts is loaded by real Airflow.
# Stops at the first batch Airflow refuses, and prints its seed and programs.
#
#   bash scripts/fuzz-airflow.sh 30            # half an hour, 600 programs a batch
#   PROGRAMS=2000 bash scripts/fuzz-airflow.sh 60
set -euo pipefail
cd "$(dirname "$0")/.."

minutes="${1:?usage: fuzz-airflow.sh MINUTES}"
programs="${PROGRAMS:-600}"
deadline=$(( $(date +%s) + minutes * 60 ))

cargo test -p dagfc --test oracle --no-run --quiet
batches=0
while [ "$(date +%s)" -lt "$deadline" ]; do
    seed=$(( ( $(date +%s%N) ^ RANDOM * 65536 + RANDOM ) & 0x7fffffffffffffff ))
    log="$(mktemp)"
    status=0
    DAGF_ORACLE_SEED="$seed" DAGF_ORACLE_PROGRAMS="$programs" \
        cargo test -p dagfc --test oracle --quiet -- --nocapture >"$log" 2>&1 || status=$?
    grep -E '^oracle: seed' "$log" || true
    batches=$(( batches + 1 ))
    if [ "$status" -ne 0 ]; then
        sed -n '/dagfc accepted what Airflow refuses/,$p' "$log"
        echo "fuzz-airflow: seed $seed failed after $batches batches; rerun it with" >&2
        echo "  DAGF_ORACLE_SEED=$seed DAGF_ORACLE_PROGRAMS=$programs cargo test -p dagfc --test oracle" >&2
        exit 1
    fi
    rm -f "$log"
done
echo "fuzz-airflow: $batches batches of $programs programs, nothing accepted that Airflow refuses"
