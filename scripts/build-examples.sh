#!/usr/bin/env bash
# The main job: build the compiler, then compile every example project into its
# `dags/` folder. Safe to run again: unchanged files are left alone.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v cargo >/dev/null 2>&1; then
    echo "build-examples: cargo is needed; install Rust from https://rustup.rs" >&2
    exit 1
fi
cargo build --release --quiet -p dagfc
dagfc=target/release/dagfc

status=0
for project in examples/*/; do
    [ -f "$project/dagf.toml" ] || continue
    echo "== ${project%/}"
    "$dagfc" build --project "$project" || status=1
done
exit $status
