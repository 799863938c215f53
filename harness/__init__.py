"""quantbench: does int8 make ResNet-50 inference faster than float32 on this CPU?

Two halves that never import each other's heavy dependencies:
``harness.bench`` (TensorFlow and the runtimes) and ``harness.host`` / ``harness.report``
(Docker SDK, rich). They share standard-library modules only: ``harness.schema`` (results
and progress events), ``harness.runtime_registry``, ``harness.arches`` and
``harness.bench.manifest``.
"""

__version__ = "0.1.0"
