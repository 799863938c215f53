"""Shared test set-up: tests run against the repo's own package."""

import os

# Keep TensorFlow quiet and deterministic-ish in tests.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
