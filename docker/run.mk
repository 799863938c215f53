# Run the benchmark in containers (included by the Makefile).
#   make run-amd64 / run-arm64   one architecture (arm64 is emulated on an amd64 host)
#   make all-arch                host set-up, then both; PROFILE=full adds batch 10000
# HOST_ARGS passes more options, e.g. HOST_ARGS='--host arm64=ssh://me@armbox'.
PY ?= .venv/bin/python
PROFILE ?= quick
HOST_ARGS ?=
SETUP_HOST := scripts/setup-host.sh

.PHONY: run-amd64 run-arm64 all-arch check-setup-host

run-amd64: venv
	$(PY) -m harness host run --arch amd64 --profile $(PROFILE) $(HOST_ARGS)

run-arm64: venv
	$(PY) -m harness host run --arch arm64 --profile $(PROFILE) $(HOST_ARGS)

check-setup-host:
	@test -x $(SETUP_HOST) || test -f $(SETUP_HOST) || \
		{ echo "$(SETUP_HOST) is missing: it installs and starts dockerd and QEMU"; exit 1; }

# The set-up is idempotent and needs root; as non-root, `host run` checks the engine and QEMU
# and says what is missing. (`python -m harness host all-arch` does the same two steps.)
all-arch: venv check-setup-host
	@if [ "$$(id -u)" -eq 0 ]; then sh $(SETUP_HOST); \
	else echo "not root: skipping $(SETUP_HOST) (run it once with sudo if the engine or QEMU is missing)"; fi
	$(PY) -m harness host run --arch all --profile $(PROFILE) $(HOST_ARGS)
