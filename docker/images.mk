# Image targets, included from the top-level Makefile (`include docker/images.mk`).
# The build is hermetic: the lock, the wheel cache and the base images are made
# on the host first (PyPI and deb.debian.org needed once), then `docker build`
# runs with no network. On a fresh Debian host run `make setup` (root) once.

QB_PYTHON ?= .venv/bin/python
QB_HOST := $(QB_PYTHON) -m harness host

.PHONY: images-lock build-amd64 build-arm64 images images-load

images-lock:  ## re-resolve requirements/bench.txt into requirements/lock-{amd64,arm64}.txt
	$(QB_HOST) lock --arch all

build-amd64:  ## build quantbench:amd64 (base image and wheels made when missing)
	$(QB_HOST) build --arch amd64

build-arm64:  ## build quantbench:arm64 (runs under QEMU on an amd64 host: ~10 min cold)
	$(QB_HOST) build --arch arm64

images: build-amd64 build-arm64  ## save both to images/quantbench-<arch>.tar + images/manifest.json
	$(QB_HOST) save --arch all

images-load:  ## load images/quantbench-<arch>.tar, checked against images/manifest.json
	$(QB_HOST) load --arch all
