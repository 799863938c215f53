"""One model per report: which model's results a report reads when the results hold several.

A speed-up or a verdict only ever compares variants of one model, and two models' tables side
by side would read as one machine measured twice. So a report keeps one model (by name and the
sha256 of a user's file): the one asked for with ``--model``, else the model of the newest run,
and says in a note what it left out and how to report that instead.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from dataclasses import dataclass, field

from harness.schema import Result

SHA256_SHOWN = 12  # hex digits that tell two files of one name apart in a --model NAME@SHA

ModelId = tuple[str, str]  # (model name, sha256 of a user's file or "")


@dataclass
class ModelGroup:
    """The results of one model."""

    label: str  # its name, or NAME@SHA when another model among the results has the same name
    results: list[Result]

    @property
    def runs(self) -> int:
        return len({result.run_id for result in self.results})

    @property
    def newest(self) -> tuple[str, str]:
        """When its newest run finished (then its run id, to break ties)."""
        return max((result.finished_at or result.started_at or "", result.run_id) for result in self.results)

    def counted(self) -> str:
        """ "39 results of resnet50 (2 runs)"."""
        return f"{_count(len(self.results), 'result')} of {self.label} ({_count(self.runs, 'run')})"

    def describe(self) -> str:
        """ "resnet50 (39 results, 2 runs)"."""
        return f"{self.label} ({_count(len(self.results), 'result')}, {_count(self.runs, 'run')})"


@dataclass
class ModelChoice:
    """The kept model's results and the models left out (empty when the results hold one)."""

    kept: ModelGroup
    left_out: list[ModelGroup] = field(default_factory=list)

    def notes(self, why: str, command: str | None) -> list[str]:
        """One line per model left out: its results and runs, which model was kept and ``why``,
        and (given the ``command`` that read them) the command that reports it instead."""
        notes = []
        for group in self.left_out:
            note = (
                f"results also hold {group.counted()}, left out: a report covers one model, "
                f"here {self.kept.label} ({why})"
            )
            if command is not None:
                note += f"; '{command} --model {shlex.quote(group.label)}' reports those"
            notes.append(note)
        return notes


class UnknownModel(LookupError):
    """--model names no model among the results; ``present`` describes those there are."""

    def __init__(self, wanted: str, present: list[ModelGroup]) -> None:
        self.wanted = wanted
        self.present = present
        super().__init__(f"no results of model {wanted!r}; the results hold {present_models(present)}")

    def sentence(self, role: str, where: str) -> str:
        """The user error: what is missing, what there is, and what to do."""
        present = present_models(self.present)
        if role == "results":
            return (
                f"no results of model {self.wanted!r} in {where}; they hold {present}: "
                "pass one of those to --model."
            )
        return (
            f"{role} directory {where} holds no results of model {self.wanted!r} (it holds {present}); "
            "compare results of one model, or pick one that both hold with --model."
        )


def model_id(result: Result) -> ModelId:
    """Which model a result measured (older results: the built-in one their versions name)."""
    return (result.model_name, result.model_sha256)


def group_models(results: Sequence[Result]) -> list[ModelGroup]:
    """The results per model, newest run first."""
    by_model: dict[ModelId, list[Result]] = {}
    for result in results:
        by_model.setdefault(model_id(result), []).append(result)
    names = [name for name, _ in by_model]
    groups = [
        ModelGroup(label=_label(name, sha256, names.count(name) > 1), results=group)
        for (name, sha256), group in by_model.items()
    ]
    return sorted(groups, key=lambda group: (group.newest, group.label), reverse=True)


def choose_model(results: Sequence[Result], wanted: str | None = None) -> ModelChoice:
    """Keep the model ``wanted`` names (a name, or NAME@SHA-PREFIX for one of several files of one
    name), else the model of the newest run; of several that match, the newest.

    Raises UnknownModel when ``wanted`` matches no model among the results.
    """
    groups = group_models(results)
    matching = [group for group in groups if wanted is None or _matches(group, wanted)]
    if not matching:
        raise UnknownModel(wanted or "", groups)
    kept = matching[0]
    return ModelChoice(kept=kept, left_out=[group for group in groups if group is not kept])


def present_models(groups: Sequence[ModelGroup]) -> str:
    """ "resnet50 (39 results, 2 runs) and mobilenetv2.keras (14 results, 1 run)"."""
    described = [group.describe() for group in groups]
    return described[0] if len(described) == 1 else f"{', '.join(described[:-1])} and {described[-1]}"


def _matches(group: ModelGroup, wanted: str) -> bool:
    name, sha256 = model_id(group.results[0])
    if wanted in (name, group.label):
        return True
    base, _, prefix = wanted.rpartition("@")
    return base == name and bool(prefix) and bool(sha256) and sha256.startswith(prefix.lower())


def _label(name: str, sha256: str, name_shared: bool) -> str:
    return f"{name}@{sha256[:SHA256_SHOWN]}" if name_shared and sha256 else name


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"
