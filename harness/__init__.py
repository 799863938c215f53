"""quantbench: does int8 make ResNet-50 inference faster than float32 on this CPU?

Two halves that never import each other's heavy dependencies:
``harness.bench`` (TensorFlow, LiteRT) and ``harness.host`` / ``harness.report``
(Docker SDK, rich). They share only ``harness.schema``.
"""

__version__ = "0.1.0"
