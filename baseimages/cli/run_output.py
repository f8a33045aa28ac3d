"""What a run of the CLI shows and writes as it goes and when it ends, besides the JSON report: the live
view on a terminal (plain line-per-event output otherwise), each image's build log (`--log-dir`), and
the reports for people (`--report-md`, `--report-html`, GitHub's summary and outputs)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Protocol, TextIO

from ..catalog.plan import Plan
from ..core.events import Event
from ..core.results import RunReport
from ..engine.build_logs import BuildLogs
from ..outputs.files import publish
from ..settings.config import Settings

if TYPE_CHECKING:
    from ..outputs.live_view import LiveView


class Observer(Protocol):
    def event(self, event: Event) -> None: ...

    def build_line(self, image: str, line: str) -> None: ...


class RunOutput:
    """The run's observers: PLAIN (the line printer) unless STREAM is a terminal, where the live view
    draws the family instead; and the build logs when SETTINGS name a directory. A context manager
    around the run."""

    def __init__(self, plan: Plan, settings: Settings, stream: TextIO, plain: Observer, verbose: bool) -> None:
        self.settings = settings
        self.logs = BuildLogs(settings.log_dir) if settings.log_dir is not None else None
        self.view: Observer = plain
        self._live: LiveView | None = None
        if _is_terminal(stream):
            from rich.console import Console

            from ..outputs.live_view import LiveView

            platforms = {image.name: list(image.platforms) for image in plan.images}
            self._live = LiveView(platforms, Console(file=stream), verbose=verbose)
            self.view = self._live

    def __enter__(self) -> RunOutput:
        if self.logs is not None:
            self.logs.prepare()
        if self._live is not None:
            self._live.__enter__()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        if self._live is not None:
            self._live.__exit__(kind, value, traceback)
        if self.logs is not None:
            self.logs.close()

    def event(self, event: Event) -> None:
        self.view.event(event)

    def build_line(self, image: str, line: str) -> None:
        if self.logs is not None:
            self.logs.line(image, line)
        self.view.build_line(image, line)

    def log_files(self) -> Mapping[str, Path]:
        return self.logs.written() if self.logs is not None else {}

    def publish(self, report: RunReport) -> list[Path]:
        """Write the reports for people the settings and the environment ask for."""
        return publish(report, self.settings, log_files=self.log_files())


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
