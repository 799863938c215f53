"""Image builds on an engine, and what an engine holds under a tag.

The build goes through the SDK's low-level API (the legacy builder: no BuildKit,
so no ``RUN --mount``) and its log is streamed into a rich progress bar.
"""

from __future__ import annotations

import re
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.errors import UserError
from harness.host.engine.connect import LONG_TIMEOUT_S

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress

    import docker

_STEP = re.compile(r"^Step (\d+)/(\d+) : (.*)$")


def image_architecture(client: docker.DockerClient, tag: str) -> str | None:
    """The Architecture an image's config names, or None when there is no such image."""
    import docker

    try:
        return client.images.get(tag).attrs.get("Architecture")
    except docker.errors.ImageNotFound:
        return None


def image_id(client: docker.DockerClient, tag: str) -> str | None:
    """The id of tag on that engine, or None when it has no such image."""
    import docker

    try:
        return client.images.get(tag).id
    except docker.errors.ImageNotFound:
        return None


@dataclass
class BuildOutcome:
    """What one build did: the image, how many steps, how many came from the cache."""

    tag: str
    image_id: str
    seconds: float
    steps_total: int = 0
    steps_cached: int = 0
    log_path: Path | None = None


@dataclass
class BuildLog:
    """Pure parser of the legacy builder's JSON stream (one dict per chunk)."""

    tail_lines: int = 40
    step: str = ""
    step_number: int = 0
    steps_total: int = 0
    steps_cached: int = 0
    image_id: str = ""
    error: str = ""
    tail: deque[str] = field(default_factory=deque)

    def feed(self, chunk: dict[str, Any]) -> list[str]:
        """Record one chunk; return the text lines it carried."""
        if chunk.get("error") or chunk.get("errorDetail"):
            self.error = chunk.get("error") or chunk["errorDetail"].get("message", "")
            return [self.error]
        aux = chunk.get("aux")
        if isinstance(aux, dict) and aux.get("ID"):
            self.image_id = aux["ID"]
        lines = [line for line in str(chunk.get("stream", "")).splitlines() if line.strip()]
        for line in lines:
            match = _STEP.match(line)
            if match:
                self.step_number, self.steps_total = int(match[1]), int(match[2])
                self.step = match[3]
            elif "---> Using cache" in line:
                self.steps_cached += 1
            elif line.startswith("Successfully built ") and not self.image_id:
                self.image_id = line.split()[-1]
            self.tail.append(line)
            while len(self.tail) > self.tail_lines:
                self.tail.popleft()
        return lines

    def step_label(self) -> str:
        if not self.step_number:
            return "sending the build context"
        return f"{self.step_number}/{self.steps_total} {self.step}"


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


def stream_build(
    client: docker.DockerClient,
    context_dir: Path,
    tag: str,
    platform: str,
    console: Console,
    *,
    buildargs: dict[str, str] | None = None,
    labels: dict[str, str] | None = None,
    nocache: bool = False,
    log_path: Path | None = None,
    cpu_shares: int | None = None,
) -> BuildOutcome:
    """Build context_dir into tag for platform, showing progress; UserError on failure.

    No network inside the build (network_mode none): the context carries everything.
    ``cpu_shares``: the build's RUN steps' CPU weight (low for background builds).
    """
    import docker

    log = BuildLog()
    log_path = log_path or context_dir.with_suffix(".build.log")
    log_path.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    progress = step_bar(console)
    with log_path.open("w") as log_file, progress:
        task = progress.add_task(log.step_label(), total=None, title=tag)
        try:
            stream = client.api.build(
                path=str(context_dir),
                tag=tag,
                platform=platform,
                buildargs=buildargs or {},
                labels=labels or {},
                nocache=nocache,
                rm=True,
                forcerm=True,
                pull=False,
                network_mode="none",
                decode=True,
                use_config_proxy=False,
                timeout=LONG_TIMEOUT_S,
                container_limits={"cpushares": cpu_shares} if cpu_shares else None,
            )
            for chunk in stream:
                before = log.step_label()
                for line in log.feed(chunk):
                    log_file.write(line + "\n")
                if log.step_label() != before:
                    progress.update(
                        task,
                        total=log.steps_total or None,
                        completed=max(log.step_number - 1, 0),
                        description=log.step_label()[:70],
                    )
                if log.error:
                    break
        except docker.errors.APIError as error:
            log.error = str(error.explanation or error)
        if not log.error:
            progress.update(task, completed=log.steps_total, description="done")
    if log.error or not log.image_id:
        tail = "\n".join(list(log.tail)[-15:])
        console.print(f"[red]last build output:[/]\n{tail}")
        raise UserError(
            f"docker build of {tag} failed at step {log.step_label()!r}: "
            f"{(log.error or 'no image id in the build output').strip()} (full log: {log_path})"
        )
    return BuildOutcome(
        tag=tag,
        image_id=log.image_id,
        seconds=time.monotonic() - started,
        steps_total=log.steps_total,
        steps_cached=log.steps_cached,
        log_path=log_path,
    )
