"""Host half (host): never imports TensorFlow or LiteRT."""
