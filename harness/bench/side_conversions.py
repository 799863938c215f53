"""Conversions from the ONNX export alone, in a second process that runs beside prepare's own.

ONNX Runtime's and OpenVINO's converters start from the float model's ONNX file
and the calibration images; TensorFlow's and LiteRT's need the Keras models in
prepare's memory. The two groups take about as long, and most of their time is
one busy thread each, so on a 2-core machine side by side they finish in about
half the time. A process, not a thread: the converters hold the GIL for long
stretches, and TensorFlow must not be forked.

``python -m harness.bench.side_conversions SCRATCH OUT LAYOUT TOLERANT VARIANT...``
reads ``SCRATCH/float.onnx`` (its input in LAYOUT) and ``SCRATCH/calibration.npy``
(NHWC), writes each variant into OUT as prepare does, and prints one line per
variant on stdout, ``ENTRY_PREFIX`` and its manifest entry as JSON, or (TOLERANT
"1": a user's model) ``NOT_MADE_PREFIX`` and the variant's name and reason; every
other line (a converter's own output) is log.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

import numpy as np

from harness.bench import manifest as mf
from harness.errors import UserError

CALIBRATION_FILE = "calibration.npy"
ENTRY_PREFIX = "quantbench-artifact "
NOT_MADE_PREFIX = "quantbench-not-made "
MODULE = "harness.bench.side_conversions"


class SideConversions:
    """The second process, started with the variants it converts; ``entries()`` waits for it."""

    def __init__(
        self,
        scratch: Path,
        out: Path,
        variants: list[str],
        on_entry: Callable[[str, str], None],
        *,
        layout: str = "NHWC",
        tolerant: bool = False,
    ):
        self.variants = variants
        self._entries: list[mf.ArtifactEntry] = []
        self._not_made: dict[str, str] = {}
        self._process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                MODULE,
                str(scratch),
                str(out),
                layout,
                "1" if tolerant else "0",
                *variants,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self._stderr: list[str] = []
        self._readers = [
            threading.Thread(target=self._read_entries, args=(on_entry,), daemon=True),
            threading.Thread(target=self._read_log, daemon=True),
        ]
        for reader in self._readers:
            reader.start()

    def _read_entries(self, on_entry: Callable[[str, str], None]) -> None:
        """``on_entry(variant, reason)``: reason "" for a variant made, else why it was not."""
        assert self._process.stdout is not None
        for line in self._process.stdout:
            if line.startswith(NOT_MADE_PREFIX):
                refused = json.loads(line[len(NOT_MADE_PREFIX) :])
                self._not_made[refused["name"]] = refused["reason"]
                on_entry(refused["name"], refused["reason"])
            elif line.startswith(ENTRY_PREFIX):
                entry = mf.ArtifactEntry(**json.loads(line[len(ENTRY_PREFIX) :]))
                self._entries.append(entry)
                on_entry(entry.name, "")
            else:  # e.g. a converter's progress bar
                print(line, end="", file=sys.stderr, flush=True)

    def _read_log(self) -> None:
        assert self._process.stderr is not None
        for line in self._process.stderr:
            self._stderr.append(line.rstrip("\n"))
            print(line, end="", file=sys.stderr, flush=True)

    def entries(self) -> tuple[dict[str, mf.ArtifactEntry], dict[str, str]]:
        """Wait for the process; its entries by variant name and the reasons of those not made,
        or a UserError with its last lines."""
        code = self._process.wait()
        for reader in self._readers:
            reader.join()
        found = {entry.name: entry for entry in self._entries}
        if code != 0 or set(found) | set(self._not_made) != set(self.variants):
            tail = "\n".join(self._stderr[-15:])
            raise UserError(
                f"the side conversions ({', '.join(self.variants)}) exited {code} with "
                f"{len(found)} of {len(self.variants)} artifact(s); their last lines:\n{tail}\n"
                "Fix the cause shown there and run prepare again."
            )
        return found, dict(self._not_made)

    def stop(self) -> None:
        """Kill the process if it is still running (prepare failed or was interrupted)."""
        if self._process.poll() is None:
            self._process.kill()
            self._process.wait()


def main(argv: list[str]) -> int:
    from harness.bench.conversion import ConversionSources, convert_variant, write_variant
    from harness.bench.progress import StepProgress
    from harness.bench.sources.base import reason_of
    from harness.runtime_registry import variant_specs

    scratch, out, layout, tolerant, names = Path(argv[0]), Path(argv[1]), argv[2], argv[3] == "1", argv[4:]
    calibration = np.load(scratch / CALIBRATION_FILE)
    sources = ConversionSources(None, calibration, out, scratch, onnx_layout=layout)
    specs = variant_specs()
    log = StepProgress("prepare", total=len(names))
    for name in names:
        runtime, variant = specs[name]

        def write(path: Path, runtime=runtime, variant=variant) -> None:
            convert_variant(runtime, variant, sources, path)

        try:
            entry = write_variant(out, variant.name, runtime.name, variant.artifact, write, log, layout)
        except Exception as error:
            if not tolerant:
                raise
            reason = reason_of(error, f"{runtime.label}'s converter")
            print(NOT_MADE_PREFIX + json.dumps({"name": name, "reason": reason}), flush=True)
            continue
        print(ENTRY_PREFIX + json.dumps(asdict(entry)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
