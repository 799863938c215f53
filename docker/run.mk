# Run the benchmark in containers (included by the Makefile).
#   make run-amd64 / run-arm64   one architecture (arm64 is emulated on an amd64 host)
#   make all-arch                host set-up (as root), then both; PROFILE=full adds batch 10000
# HOST_ARGS passes more options, e.g. HOST_ARGS='--host arm64=ssh://me@armbox' or '--verbose'.
# Your own model: MODEL=path/to/model.keras|.onnx DATA=imagefolder:DIR NORMALIZE=tf (README).
PY ?= .venv/bin/python
PROFILE ?= quick
HOST_ARGS ?=
MODEL ?=
DATA ?=
NORMALIZE ?=
MODEL_ARGS := $(if $(MODEL),--model '$(MODEL)') $(if $(DATA),--data '$(DATA)') $(if $(NORMALIZE),--normalize='$(NORMALIZE)')

MAX_DROP ?=
.PHONY: run-amd64 run-arm64 all-arch tune

run-amd64: venv  ## prepare if needed, then measure in quantbench:amd64 (PROFILE=full adds batch 10000)
	$(PY) -m harness host run --arch amd64 --profile $(PROFILE) $(MODEL_ARGS) $(HOST_ARGS)

run-arm64: venv  ## the same in quantbench:arm64 (emulated on an amd64 host)
	$(PY) -m harness host run --arch arm64 --profile $(PROFILE) $(MODEL_ARGS) $(HOST_ARGS)

# As root, `host all-arch` runs scripts/setup-host.sh first (idempotent); as non-root it checks
# the engine and QEMU and says what is missing.
all-arch: venv  ## set up the host, build both images, prepare, measure both, report
	$(PY) -m harness host all-arch --profile $(PROFILE) $(MODEL_ARGS) $(HOST_ARGS)

tune: venv  ## which int8 file to ship: search each runtime's recipes, measure them (MODEL= DATA= NORMALIZE= MAX_DROP=)
	$(PY) -m harness host tune --profile $(PROFILE) $(MODEL_ARGS) $(if $(MAX_DROP),--max-drop $(MAX_DROP)) $(HOST_ARGS)
