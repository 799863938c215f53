#!/bin/sh
# `make test`: linters, then pytest. Any failure, or no test collected, exits non-zero.
set -u
cd "$(dirname "$0")/.."
PY=.venv/bin/python
failed=0

step() { printf '\n== %s\n' "$*"; }

step "ruff check"
.venv/bin/ruff check harness tests benchmarks || failed=1
step "ruff format --check"
.venv/bin/ruff format --check harness tests benchmarks || failed=1
step "hadolint docker/Dockerfile docker/Dockerfile.deps"
.venv/bin/hadolint docker/Dockerfile docker/Dockerfile.deps || failed=1
if ls .github/workflows/*.yml >/dev/null 2>&1; then
    step "actionlint"
    .venv/bin/actionlint .github/workflows/*.yml || failed=1
fi

step "pytest"
$PY -m pytest "$@"
rc=$?
case $rc in
    0) ;;
    5) echo "make test: error: pytest collected no tests (exit 5): that is a failure, not a pass." >&2; failed=1 ;;
    *) failed=1 ;;
esac

if [ "$failed" -ne 0 ]; then
    echo "make test: FAILED (pytest exit $rc; see the steps above)" >&2
    exit 1
fi
echo "make test: all linters and tests passed"
