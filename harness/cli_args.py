"""argparse types that turn bad numbers into one clear sentence (standard library only:
both the bench and host command lines use them)."""

from __future__ import annotations

import argparse

from harness.errors import UserError
from harness.schema import SEED_INPUT_SIZE

# A batch this large would need tens of GB before the first image runs.
MAX_BATCH = 20_000


def whole_number(minimum: int):
    """An argparse type: an int of at least ``minimum``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"{value} must be {minimum} or more")
        return value

    return parse


positive_int = whole_number(1)
non_negative_int = whole_number(0)


def _number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
    return value


def positive_float(text: str) -> float:
    value = _number(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text} must be more than 0")
    return value


def non_negative_float(text: str) -> float:
    value = _number(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text} must be 0 or more")
    return value


def batch_list(text: str) -> tuple[int, ...]:
    """'1,64' -> (1, 64); every size from 1 to MAX_BATCH."""
    sizes = []
    for part in text.split(","):
        size = positive_int(part.strip())
        if size > MAX_BATCH:
            raise argparse.ArgumentTypeError(
                f"batch {size} is larger than {MAX_BATCH}; its activations would not fit in memory"
            )
        sizes.append(size)
    return tuple(dict.fromkeys(sizes))


def thread_list(text: str) -> tuple[int, ...]:
    """'1,2' -> (1, 2): thread counts to sweep, each at least 1, in increasing order."""
    return tuple(sorted({positive_int(part.strip()) for part in text.split(",")}))


MAX_INPUT_SIZE = 512  # the built-in model's sides: multiples of its 32 up to this
MIN_SIDE, MAX_SIDE = 8, 1024  # a user's model's side


def input_size_list(text: str) -> tuple[int, ...]:
    """'32,224' -> (32, 224): image sides in increasing order, each from 8 to 1024 (the built-in
    model further needs multiples of 32, ``check_builtin_sizes``; a user's model takes one)."""
    sizes = set()
    for part in text.split(","):
        size = positive_int(part.strip())
        if not MIN_SIDE <= size <= MAX_SIDE:
            raise argparse.ArgumentTypeError(f"input size {size} is not a side from {MIN_SIDE} to {MAX_SIDE}")
        sizes.add(size)
    return tuple(sorted(sizes))


def check_builtin_sizes(sizes: tuple[int, ...]) -> None:
    """UserError unless every side is a multiple of the seed's 32 up to 512 (the built-in model's
    other sides are its 32×32 images upscaled by a whole factor)."""
    for size in sizes:
        if size % SEED_INPUT_SIZE or size > MAX_INPUT_SIZE:
            raise UserError(
                f"input size {size} is not a multiple of {SEED_INPUT_SIZE} from {SEED_INPUT_SIZE} to "
                f"{MAX_INPUT_SIZE} (the built-in model's images are upscaled by a whole factor); use "
                "e.g. 32,224"
            )


def name_list(text: str) -> tuple[str, ...]:
    names = tuple(part.strip() for part in text.split(",") if part.strip())
    if not names:
        raise argparse.ArgumentTypeError("give at least one name")
    return names


_UNITS = {"": 1, "b": 1, "k": 2**10, "m": 2**20, "g": 2**30, "t": 2**40}


def parse_memory(text: str) -> int:
    """'8g', '512m', '16GiB', '2.5G' -> bytes (binary units, like docker --memory)."""
    cleaned = text.strip().lower().removesuffix("ib").removesuffix("b")
    number, unit = cleaned, ""
    if cleaned and cleaned[-1] in _UNITS:
        number, unit = cleaned[:-1], cleaned[-1]
    try:
        value = float(number)
    except ValueError:
        value = -1
    size = int(value * _UNITS[unit])
    if value <= 0 or size < 64 * 2**20:
        raise UserError(f"--memory {text!r} is not a size of at least 64m; write it like 8g or 512m.")
    return size
