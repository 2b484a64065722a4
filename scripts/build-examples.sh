#!/usr/bin/env bash
# The main job: build the compiler, then compile every example project into its
# `dags/` folder. Safe to run again: unchanged files are left alone.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v cargo >/dev/null 2>&1; then
    echo "build-examples: cargo is needed; install Rust from https://rustup.rs" >&2
    exit 1
fi
echo "build-examples: building dagfc (release)"
cargo build --release --quiet --locked -p dagfc
dagfc=target/release/dagfc

# The catalog's API-driven example (101.2.5) reads its configuration service, a folder
# of JSON files served on 127.0.0.1:8765 while the examples build.
api_port=8765
if ! command -v python3 >/dev/null 2>&1; then
    echo "build-examples: python3 is needed to serve examples/catalog/api" >&2
    exit 1
fi
python3 -m http.server "$api_port" --bind 127.0.0.1 --directory examples/catalog/api \
    >/dev/null 2>&1 &
api_pid=$!
trap 'kill "$api_pid" 2>/dev/null || true' EXIT
for _ in $(seq 50); do
    (exec 3<>"/dev/tcp/127.0.0.1/$api_port") 2>/dev/null && break
    kill -0 "$api_pid" 2>/dev/null || {
        echo "build-examples: cannot serve examples/catalog/api on 127.0.0.1:$api_port" >&2
        exit 1
    }
    sleep 0.1
done

projects=()
for project in examples/*/; do
    [ -f "$project/dagf.toml" ] && projects+=("${project%/}")
done
status=0
failed=()
n=0
for project in "${projects[@]}"; do
    n=$((n + 1))
    echo "== [$n/${#projects[@]}] $project"
    if ! "$dagfc" build --project "$project"; then
        status=1
        failed+=("$project")
    fi
done
if [ "$status" -eq 0 ]; then
    echo "build-examples: built all ${#projects[@]} examples"
else
    echo "build-examples: ${#failed[@]} of ${#projects[@]} examples failed: ${failed[*]}" >&2
fi
exit $status
