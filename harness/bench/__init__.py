"""Bench half: TensorFlow and LiteRT. Never imports docker or rich."""
