"""Host half (report): never imports TensorFlow or LiteRT."""
