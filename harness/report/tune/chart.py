"""The Pareto chart of a tune: each timed candidate's speed-up over its float32 against its accuracy
change, one panel per machine and batch, the runtimes' colours, the intervals as error bars."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from harness.report.tune.model import TIMED, TuneTable

COLOURS = {"LiteRT": "tab:blue", "ONNX Runtime": "tab:orange", "OpenVINO": "tab:green"}


def write_tune_chart(tables: Sequence[TuneTable], path: Path) -> Path | None:
    """tune.png at path (None when no candidate was timed)."""
    drawn = [t for t in tables if any(line.status == TIMED and line.speedup for line in t.lines)]
    if not drawn:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, len(drawn), figsize=(5.5 * len(drawn), 4.5), squeeze=False)
    for axis, table in zip(axes[0], drawn, strict=True):
        for line in table.lines:
            if line.status != TIMED or line.speedup is None:
                continue
            s = line.speedup
            error = None
            if s.has_interval:
                error = [[s.ratio - s.low], [s.high - s.ratio]]
            colour = COLOURS.get(line.runtime, "tab:gray")
            axis.errorbar(-(line.accuracy_pt or 0.0), s.ratio, yerr=error, fmt="o", color=colour, capsize=3)
            axis.annotate(
                line.name.split("~", 1)[-1],
                (-(line.accuracy_pt or 0.0), s.ratio),
                fontsize=7,
                xytext=(4, 2),
                textcoords="offset points",
            )
        axis.axhline(1.0, color="black", linewidth=0.8)
        axis.set_xlabel(f"{table.lines[0].accuracy_label} drop vs its float32 (points)")
        axis.set_ylabel("speed-up over its float32 (×)")
        axis.set_title(f"{table.host} {table.arch}, batch {table.batch}", fontsize=9)
    handles = [plt.Line2D([], [], marker="o", linestyle="", color=c, label=n) for n, c in COLOURS.items()]
    figure.legend(handles=handles, loc="lower center", ncol=len(handles), fontsize=8)
    figure.suptitle("quantbench tune: every candidate that passed the gate (up: faster; left: more accurate)")
    figure.tight_layout(rect=(0, 0.06, 1, 0.95))
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path
