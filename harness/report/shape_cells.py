"""Plain-text cells of the input-shape section, shared by the console and the markdown file.

One table per native machine measured at more than one shape: a line per (shape, batch, threads)
and runtime with an int8 verdict. What the model costs at a setting (multiply-adds, weights, their
ratio) is the same for every runtime there, so it is written on the setting's first line only.
"""

from __future__ import annotations

from harness.report import fmt
from harness.report.shapes import TITLE, ShapeMachine, bound_label, bound_meaning, byte_ratio

COLUMNS = (
    ("shape", "right"),
    ("batch", "right"),
    ("thr", "right"),
    ("GMAC/img", "right"),  # multiply-adds of one image, in 10⁹
    ("fp32 MB", "right"),  # weights a float32 call reads
    ("int8 MB", "right"),  # weights an int8 call reads
    ("MAC/B", "right"),  # multiply-adds per weight byte of a float32 call: batch × MACs / fp32 bytes
    ("runtime", "left"),
    ("fp32 ms", "right"),
    ("fp32 GMAC/s", "right"),  # what the float32 call achieved: batch × MACs / its p50
    ("speed-up [95% CI]", "left"),  # int8 vs float32: the runtime's verdict's interval
    ("bound by", "left"),
)
MODEL_COLUMNS = 4  # GMAC/img .. MAC/B: said once per setting
# As cells.MACHINE_DROP_ORDER: the p50 is what the rate is made of; the int8 weights are a quarter
# of the float32 ones; the multiply-adds per image give MAC/B, which stays.
DROP_ORDER = ("fp32 ms", "int8 MB", "GMAC/img", "fp32 MB")


def title(machine: ShapeMachine) -> str:
    """ "Why the answer changes with the input shape: amd64 (AVX2, no VNNI, native) on local"."""
    return f"{TITLE}: {machine.label}"


def rows(machine: ShapeMachine) -> list[list[str]]:
    """One line per setting and runtime, in COLUMNS order."""
    lines = []
    for shaped in machine.settings:
        setting = shaped.setting
        for index, comparison in enumerate(shaped.comparisons):
            model = [
                fmt.number(comparison.macs_per_image / 1e9 if comparison.macs_per_image else None),
                fmt.number(_mb(comparison.float_weight_bytes)),
                fmt.number(_mb(comparison.int8_weight_bytes)),
                fmt.number(comparison.intensity),
            ]
            if index > 0:
                model = [""] * MODEL_COLUMNS
            rate = comparison.float_macs_per_s
            lines.append(
                [
                    fmt.shape(setting.input_size),
                    str(setting.batch),
                    str(setting.threads),
                    *model,
                    comparison.runtime,
                    fmt.ms(comparison.float_p50_s),
                    fmt.number(rate / 1e9 if rate else None),
                    fmt.ratio(comparison.speedup, with_rounds=False),
                    bound_label(comparison),
                ]
            )
    return lines


def block_ends(machine: ShapeMachine) -> set[int]:
    """The index of each setting's last line but the last's: a rule under each setting."""
    ends, total = set(), 0
    for shaped in machine.settings[:-1]:
        total += len(shaped.comparisons)
        ends.add(total - 1)
    return ends


def caption(machine: ShapeMachine) -> list[str]:
    """The ISA's limit, what the columns are, and what each classification shown means."""
    limit = f"~{machine.limit:g}×" if machine.limit is not None else "unknown"
    lines = [
        f"int8:fp32 multiply-add limit of this ISA: {limit} ({machine.limit_facts}).",
        "MAC/B: a float32 call's multiply-adds per weight byte (batch × multiply-adds per image / "
        "fp32 weight bytes); fp32 GMAC/s: the multiply-adds per second it achieved; speed-up: int8 "
        "vs float32 of the runtime, its verdict's interval.",
    ]
    meanings: dict[str, str] = {}
    for shaped in machine.settings:
        for comparison in shaped.comparisons:
            meanings.setdefault(
                comparison.bound, bound_meaning(comparison.bound, machine.limit, byte_ratio(comparison))
            )
    return lines + list(meanings.values())


def _mb(n_bytes: int | None) -> float | None:
    return None if n_bytes is None else n_bytes / 1e6
