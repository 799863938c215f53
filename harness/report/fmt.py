"""Plain-text formatting of report numbers, shared by the console, markdown and verdicts."""

from __future__ import annotations

from collections.abc import Iterable

from harness.report.stats import RatioInterval
from harness.runtime_registry import runtimes
from harness.schema import SEED_INPUT_SIZE

DASH = "—"  # an empty cell
OFF_SCALE = "†"  # after a top-1 of the network used at a side its weights were not trained at


def ms(seconds: float | None) -> str:
    """Seconds as milliseconds with about three significant digits."""
    if seconds is None:
        return DASH
    value = seconds * 1000.0
    if value >= 100:
        return f"{value:.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def rate(images_per_s: float | None) -> str:
    if images_per_s is None:
        return DASH
    return f"{images_per_s:.0f}" if images_per_s >= 100 else f"{images_per_s:.1f}"


def ratio(interval: RatioInterval | None, *, with_rounds: bool = True) -> str:
    """ "1.27× [1.21–1.33]", and "(6 rounds)" after a paired one: the replication behind it."""
    if interval is None:
        return DASH
    if interval.low is None or interval.high is None:
        if interval.rounds == 1:
            return f"{interval.ratio:.2f}× (no interval, 1 round)"
        return f"{interval.ratio:.2f}× (no interval, n={interval.samples})"
    text = f"{interval.ratio:.2f}× [{interval.low:.2f}–{interval.high:.2f}]"
    return text + (f" ({interval.rounds} rounds)" if interval.rounds and with_rounds else "")


def percent(fraction: float | None) -> str:
    """A 0..1 fraction as "76.1%"."""
    return DASH if fraction is None else f"{100.0 * fraction:.1f}%"


def points(delta_pt: float | None) -> str:
    """A signed change in percentage points with a true minus sign: "−0.2"."""
    if delta_pt is None:
        return DASH
    text = f"{delta_pt:+.1f}"
    return text.replace("-", "−")


def megabytes(n_bytes: int | None) -> str:
    if not n_bytes:
        return DASH
    value = n_bytes / 1e6
    return f"{value:.1f} MB" if value < 100 else f"{value:.0f} MB"


def runtime(text: str) -> str:
    """Short runtime name: "ai-edge-litert 2.3.0" -> "LiteRT 2.3.0" (the declared labels)."""
    short = {runtime.distribution: runtime.label for runtime in runtimes()}
    name, _, version = text.partition(" ")
    return f"{short.get(name.lower(), name)} {version}".strip()


def shape(input_size: int) -> str:
    """An image side as the shape it names: 224 -> "224×224"."""
    return f"{input_size}×{input_size}"


def shapes_named(input_sizes: Iterable[int]) -> bool:
    """Whether a report names each row's input shape: when any result is not at the seed's
    (every result before schema 5 is at it, and such a report reads as it always did)."""
    return any(size != SEED_INPUT_SIZE for size in input_sizes)


def top1(fraction: float | None, off_training_scale: bool = False) -> str:
    """percent(), marked OFF_SCALE when the network ran off its training scale."""
    text = percent(fraction)
    return text + OFF_SCALE if off_training_scale and fraction is not None else text


def training_scale_note(trained_size: int, input_size: int) -> str:
    """What an OFF_SCALE mark means, for one (trained, measured) pair of sides."""
    factor = input_size / trained_size
    scaled = f"upscaled {factor:g}×" if factor >= 1 else f"downscaled {1 / factor:g}×"
    return (
        f"{OFF_SCALE} weights trained at {shape(trained_size)}; at {shape(input_size)} the eval images "
        f"are the same images {scaled}, so top-1 there is the network used off its training scale "
        "(timing only); the int8-vs-float32 agreement still applies"
    )


def number(value: float | None) -> str:
    """About three significant digits, never in e-notation: 0.82, 25.0, 43.1, 102."""
    if value is None:
        return DASH
    if value >= 100:
        return f"{value:.0f}"
    if value >= 1:
        return f"{value:.1f}"
    return f"{value:.2g}"
