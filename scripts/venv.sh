#!/bin/sh
# Build .venv at the repo root with the host, bench and dev requirements.
# On a fresh Debian/Ubuntu machine as root, installs python3-venv first if needed.
set -eu
cd "$(dirname "$0")/.."
if ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
    if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "venv: installing python3-venv"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv python3-pip
    else
        echo "venv: error: python3 cannot make virtualenvs; install python3-venv (sudo apt-get install python3-venv)" >&2
        exit 1
    fi
fi
python3 -c 'import sys; sys.exit(0 if sys.version_info[:2] >= (3, 11) else 1)' \
    || { echo "venv: error: Python 3.11 or newer is needed (found $(python3 --version))" >&2; exit 1; }
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install --quiet --disable-pip-version-check \
    -r requirements/bench.txt -r requirements/host.txt -r requirements/dev.txt
.venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps -r requirements/bench-nodeps.txt
# the `quantbench` command (same CLI as `python -m harness`), from this checkout
.venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
touch .venv/.installed
echo "venv: ready ($(.venv/bin/python --version))"
