"""The live view of a run on a terminal (rich): one row per image and platform with its phase, the time
in that phase and since the image started, and, when an image fails, the output that says why (the
failed check's, or the excerpt of its build log). An observer of the scheduler's events and of the
build lines, like the plain line-per-event printer it replaces when the output is a terminal."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import TracebackType

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from ..core.events import Event, Phase
from ..engine.build_logs import error_excerpt

LINES_KEPT = 2000  # of each image's build output, for the excerpt of a failure
NOTES_SHOWN = 3  # latest notes (retries)
_DONE = {Phase.PROMOTED, Phase.UNCHANGED, Phase.TESTED, Phase.FAILED, Phase.BLOCKED}
_STYLES = {
    Phase.FAILED: "bold red",
    Phase.BLOCKED: "bold red",
    Phase.PROMOTED: "green",
    Phase.UNCHANGED: "green",
    Phase.TESTED: "green",
    Phase.WAITING: "dim",
    Phase.RETRYING: "yellow",
}


@dataclass
class _Row:
    phase: Phase = Phase.WAITING
    since: float = 0.0  # seconds into the run when the phase began
    started: float | None = None  # when the image left `waiting`
    ended: float | None = None
    detail: str = ""
    seen: set[Phase] = field(default_factory=set)  # the phases the row has been in


class LiveView:
    """Draws PLATFORMS (image -> its platforms, in build order) on CONSOLE while the run goes; use it as a
    context manager around the run. With VERBOSE, build lines are printed above the table."""

    def __init__(self, platforms: Mapping[str, Sequence[str]], console: Console, verbose: bool = False) -> None:
        self.console = console
        self.verbose = verbose
        self._platforms = {image: list(names) or ["all"] for image, names in platforms.items()}
        self._rows = {(image, p): _Row() for image, names in self._platforms.items() for p in names}
        self._failures: dict[str, str] = {}
        self._lines: dict[str, deque[str]] = {image: deque(maxlen=LINES_KEPT) for image in self._platforms}
        self._notes: deque[str] = deque(maxlen=NOTES_SHOWN)
        self._offset: float | None = None  # monotonic time of the run's start
        self._lock = threading.RLock()
        self._live = Live(console=console, get_renderable=self.render, refresh_per_second=4, transient=False)

    def __enter__(self) -> LiveView:
        self._live.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self._live.refresh()
        self._live.stop()

    def event(self, event: Event) -> None:
        with self._lock:
            if self._offset is None:
                self._offset = time.monotonic() - event.elapsed
            image = event.image
            if event.retry is not None or image is None or image not in self._platforms:
                # A retry (an image's, or a request's that concerns no image) is a note: rows keep their phase.
                phase = Phase.RETRYING if event.retry is not None else event.phase
                self._notes.append(f"{image + ': ' if image else ''}{phase.value} {event.detail}".strip())
                return
            names = self._platforms[image]
            targets = [event.platform] if event.platform in names else names
            for platform in targets:
                self._update(self._rows[(image, platform)], event)
            if event.phase is Phase.FAILED:
                self._failures[image] = self._failure_text(image, event.detail)
            elif event.phase is Phase.BLOCKED:
                self._failures[image] = event.detail

    def build_line(self, image: str, line: str) -> None:
        with self._lock:
            self._lines.setdefault(image, deque(maxlen=LINES_KEPT)).append(line)
        if self.verbose:
            self.console.print(Text(f"  {image} | {line}", style="dim"), highlight=False)

    def render(self) -> RenderableType:
        with self._lock:
            now = time.monotonic() - self._offset if self._offset is not None else 0.0
            table = Table(expand=False, box=None, pad_edge=False, header_style="bold")
            for column in ("image", "platform", "phase", "in phase", "elapsed"):
                table.add_column(column, no_wrap=True, justify="right" if column in ("in phase", "elapsed") else "left")
            table.add_column("detail", no_wrap=True, overflow="ellipsis", max_width=70)
            for (image, platform), row in self._rows.items():
                end = row.ended if row.ended is not None else now
                in_phase = "" if row.ended is not None else f"{end - row.since:.1f}s"
                elapsed = "" if row.started is None else f"{end - row.started:.1f}s"
                style = _STYLES.get(row.phase, "yellow")
                table.add_row(image, platform, Text(row.phase.value, style=style), in_phase, elapsed, row.detail)
            parts: list[RenderableType] = [table]
            parts += [Text(note, style="yellow") for note in self._notes]
            for image, text in self._failures.items():
                parts.append(Panel(Text(text), title=f"{image}: why it failed", border_style="red", expand=False))
            return Group(*parts)

    def _update(self, row: _Row, event: Event) -> None:
        """The row takes the phase of the stage that began last; a later note of a stage that began before it
        and still runs beside it (the smoke tests beside the contract, the changelog) is shown as its detail."""
        detail = " ".join(event.detail.split())
        if event.phase is not row.phase and event.phase in row.seen and event.phase not in _DONE:
            row.detail = f"{event.phase.value}: {detail}" if detail else row.detail
            return
        row.seen.add(event.phase)
        if event.phase is not row.phase:
            row.phase, row.since = event.phase, event.elapsed
        if row.started is None and event.phase is not Phase.WAITING:
            row.started = event.elapsed
        if event.phase in _DONE:
            row.ended = event.elapsed
        row.detail = detail

    def _failure_text(self, image: str, detail: str) -> str:
        lines = self._lines.get(image)
        if lines and any("ERROR" in line for line in lines):
            return f"{detail}\n\n{error_excerpt(list(lines))}"
        return detail
