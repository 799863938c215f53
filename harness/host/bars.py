"""The one progress-bar layout of long host steps (image builds, containers)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress


def step_bar(console: Console) -> Progress:
    """The bar of a long step (a build, a container): spinner, title, bar, n/total, time, detail.

    Each task carries its name in the ``title`` field and its latest detail as description.
    """
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    return Progress(
        SpinnerColumn(),
        TextColumn("[bold]{task.fields[title]}[/]"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.description}", style="dim"),
        console=console,
    )
