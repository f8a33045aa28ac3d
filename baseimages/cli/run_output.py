"""What a run of the CLI shows as it goes: the live view on a terminal, plain line-per-event output
otherwise. Everything a run writes (the JSON report, the reports for people, build logs, metrics) is the
library's: `Factory.run` writes it as the settings and the run options ask."""

from __future__ import annotations

from types import TracebackType
from typing import TYPE_CHECKING, Protocol, TextIO

from ..catalog.plan import Plan
from ..core.events import Event

if TYPE_CHECKING:
    from ..outputs.live_view import LiveView


class Observer(Protocol):
    def event(self, event: Event) -> None: ...

    def build_line(self, image: str, line: str) -> None: ...


class RunOutput:
    """What the run shows: PLAIN (the line printer) unless STREAM is a terminal, where the live view
    draws the family instead. A context manager around the run."""

    def __init__(self, plan: Plan, stream: TextIO, plain: Observer, verbose: bool) -> None:
        self.view: Observer = plain
        self._live: LiveView | None = None
        if _is_terminal(stream):
            from rich.console import Console

            from ..outputs.live_view import LiveView

            platforms = {image.name: list(image.platforms) for image in plan.images}
            self._live = LiveView(platforms, Console(file=stream), verbose=verbose)
            self.view = self._live

    def __enter__(self) -> RunOutput:
        if self._live is not None:
            self._live.__enter__()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        if self._live is not None:
            self._live.__exit__(kind, value, traceback)

    def event(self, event: Event) -> None:
        self.view.event(event)

    def build_line(self, image: str, line: str) -> None:
        self.view.build_line(image, line)


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
