"""quantbench tune: each runtime's int8 recipes made, judged on the eval images, and the ones that
keep the accuracy timed beside their float32 (``search``, ``recipe``, ``cli``)."""
