# quantbench: does int8 make ResNet-50 faster than float32 on this CPU (amd64 and arm64)?
#   make all-arch   build both images, prepare once, measure in each, print the report
#   make test       linters + unit and integration tests (real containers)
PY := .venv/bin/python
REQUIREMENTS := requirements/bench.txt requirements/bench-nodeps.txt requirements/host.txt requirements/dev.txt
# quick (batch 1 and 64) or full (adds the 2018 batch of 10,000)
PROFILE ?= quick

.PHONY: all-arch build-amd64 build-arm64 run-amd64 run-arm64 images report test venv setup clean help
.DEFAULT_GOAL := help

help:  ## list every target with what it does
	@grep -hE '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | sort | \
		awk -F':.*## ' '{ printf "  make %-16s %s\n", $$1, $$2 }'

.venv/.installed: $(REQUIREMENTS) scripts/venv.sh
	scripts/venv.sh

venv: .venv/.installed  ## make .venv (host, bench and dev requirements, the quantbench command)

# Installs and starts what is missing (Docker engine, QEMU) when run as root.
setup:  ## install and start the Docker engine and QEMU (root), or say the command to run
	@if [ "$$(id -u)" -eq 0 ]; then scripts/setup-host.sh; \
	else echo "not root: run 'sudo scripts/setup-host.sh' once (Docker engine, QEMU for arm64)"; fi

test: venv setup  ## linters + unit and integration tests (builds and runs real containers)
	scripts/test.sh

report: venv  ## render results/ into results/report.{md,csv,json,png} (+ fleet.{csv,png}: 2+ machines)
	$(PY) -m harness report results --markdown results/report.md --csv results/report.csv \
		--json results/report.json --plot results/report.png

clean:  ## remove artifacts/, result JSON and caches of the tools
	rm -rf artifacts .pytest_cache .ruff_cache
	find results -name '*.json' -delete
	find . -name __pycache__ -type d -prune -exec rm -rf {} +

-include docker/images.mk
-include docker/run.mk
