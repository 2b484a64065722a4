#!/usr/bin/env bash
# Create (or reuse) a virtual environment with real Apache Airflow for the tests, and
# print its path on the last line of stdout.
#
#   venv.sh         Airflow 3.3 (requirements.txt), for the conformance tests;
#                   at $DAGF_AIRFLOW_VENV, default <repo>/target/airflow-venv.
#   venv.sh X.Y     Airflow X.Y (requirements-X.Y.txt: 2.11, 3.0, 3.1, 3.2), for the
#                   target tests; at $DAGF_AIRFLOW_VENV_X_Y (such as
#                   DAGF_AIRFLOW_VENV_2_11), default <repo>/target/airflow-venv-X.Y.
#
# A venv is reused as-is when its stamp file holds the hash of its requirements file;
# otherwise the file is (re)installed into it, with uv when it is on PATH, else pip.
# Any failure exits non-zero with a one-line reason on stderr.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
if [[ $# -ge 1 ]]; then
    version="$1"
    requirements="$here/requirements-$version.txt"
    override="DAGF_AIRFLOW_VENV_${version//./_}"
    venv="${!override:-$repo/target/airflow-venv-$version}"
else
    version="3.3"
    requirements="$here/requirements.txt"
    venv="${DAGF_AIRFLOW_VENV:-$repo/target/airflow-venv}"
fi
stamp="$venv/.dagf-requirements.sha256"

die() {
    echo "venv.sh: error: $*" >&2
    exit 1
}

[[ -f "$requirements" ]] || die "no requirements file for Airflow $version: missing $requirements"
want="$(sha256sum "$requirements" | cut -d' ' -f1)"

is_ready() {
    [[ -x "$venv/bin/python" && -f "$stamp" && "$(<"$stamp")" == "$want" ]]
}

if is_ready; then
    echo "$venv"
    exit 0
fi

mkdir -p "$(dirname "$venv")" || die "cannot create the parent directory of $venv"

# Test binaries may call this script concurrently; only one may install.
exec 9>"$venv.lock"
flock 9 || die "cannot lock $venv.lock"
if is_ready; then
    echo "$venv"
    exit 0
fi

command -v python3 >/dev/null 2>&1 || die "python3 not found on PATH (Python >= 3.11 is needed for Airflow 3.3 and its standard providers)"
python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' ||
    die "$(python3 --version 2>&1) found; Python >= 3.11 is needed for Airflow 3.3 and its standard providers"

# Drop the stamp first so an interrupted install is never mistaken for a good one.
rm -f "$stamp"
if [[ ! -x "$venv/bin/python" ]]; then
    python3 -m venv "$venv" >&2 || die "'python3 -m venv $venv' failed"
fi

log="$venv/.dagf-install.log"
echo "venv.sh: installing $requirements into $venv (takes about a minute)" >&2
if command -v uv >/dev/null 2>&1; then
    install=(uv pip install --python "$venv/bin/python" -r "$requirements")
else
    install=("$venv/bin/python" -m pip install -r "$requirements")
fi
if ! PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1 "${install[@]}" >"$log" 2>&1; then
    tail -n 20 "$log" >&2
    die "${install[*]} failed (full log: $log)"
fi

echo "$want" >"$stamp"
echo "$venv"
