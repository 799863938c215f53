"""Warnings told apart by kind, so that the notes under a table say each kind once.

Result files hold warnings as plain sentences (in every schema version), written by the bench,
the host and older versions of both, and shaped "FACT: MEANING; ADVICE.". Two rows with the same
kind of warning differ in their numbers only, so a warning is split into the row's own part (its
clauses with a number in them) and the kind's part (the clauses without one, and the advice after
the last "; "); a note then names the rows of one kind, each with its own numbers, and says the
rest once. A kind whose shared sentence holds numbers of its own is matched by pattern first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# A number of its own, not the 8 of int8, the 86 of x86 or the 1 of top-1.
NUMBER = re.compile(r"(?<![\w.\-])\d")


@dataclass(frozen=True)
class SplitWarning:
    """One warning in the parts a note shows: the kind's once, the row's own once per row."""

    title: str  # the same for every row of the kind: "the percentiles are rough"
    detail: str  # this row's own numbers: "only 1 repeats (fewer than 10)"; "" when it has none
    advice: str  # the same for every row of the kind: "rerun with more --repeats"

    @property
    def kind(self) -> tuple[str, str]:
        return self.title, self.advice


@dataclass(frozen=True)
class KnownKind:
    """A warning whose shared sentence holds numbers: its pattern, and the parts made of its groups."""

    pattern: re.Pattern[str]
    title: str  # a format string over the pattern's named groups
    detail: str


KNOWN_KINDS = (
    # host/run/verify.py: an emulated int8 output checked against a native one that is inexact
    # itself; the why ("the native CPU, x86 without VNNI, runs ... 16-bit sums ...") is shared.
    KnownKind(
        re.compile(
            r"emulated outputs NOT verified: they differ from native by (?P<by>\S+), but it is the "
            r"native output that strays(?P<why>.*?) \(native (?P<native>\S+), emulated (?P<emulated>\S+) "
            r"from (?P<base>[^)]+)\); (?P<advice>.+)"
        ),
        title="emulated outputs NOT verified, it is the native output that strays{why}",
        detail="off by {by}, native {native}, emulated {emulated} from {base}",
    ),
)


def split_warning(text: str, variant: str = "") -> SplitWarning:
    """The kind's and the row's parts of one warning about ``variant`` (whose name is left out:
    the note names the row)."""
    text = text.strip().removesuffix(".")
    for kind in KNOWN_KINDS:
        found = kind.pattern.fullmatch(text)
        if found:
            groups = found.groupdict()
            return SplitWarning(kind.title.format(**groups), kind.detail.format(**groups), groups["advice"])
    head, _, advice = text.rpartition("; ") if "; " in text else (text, "", "")
    if variant:
        head = head.replace(f"{variant}'s ", "").removeprefix(f"{variant} ")
    clauses = head.split(": ")
    shared = [clause for clause in clauses if not NUMBER.search(clause)]
    own = [clause for clause in clauses if NUMBER.search(clause)]
    return SplitWarning(": ".join(shared), ": ".join(own), advice)
