#!/usr/bin/env bash
# Writes crates/dagf-time/src/zones.rs, the IANA time zone names the compiler knows,
# from the `tzdata` Python package of the Airflow environment (the names Airflow's
# pendulum can load). Run it after raising tzdata; the table is committed, so a
# build never reads the machine's time zone database.
set -euo pipefail
cd "$(dirname "$0")/.."
python="${1:-${DAGF_AIRFLOW_VENV:-target/airflow-venv}/bin/python}"
"$python" - <<'PY'
import importlib.metadata
import importlib.resources

version = importlib.metadata.version("tzdata")
names = sorted(
    line.strip()
    for line in importlib.resources.files("tzdata").joinpath("zones").read_text().splitlines()
    if line.strip()
)
out = [
    "//! The IANA time zone names, from the `tzdata` package " + version + ".",
    "//! Written by `scripts/zones.sh`; do not edit.",
    "",
    "/// Every zone name, sorted.",
    "pub const ZONES: [&str; " + str(len(names)) + "] = [",
]
out += ['    "' + n + '",' for n in names]
out += ["];", ""]
open("crates/dagf-time/src/zones.rs", "w").write("\n".join(out))
print("zones: wrote", len(names), "names from tzdata", version)
PY
