"""Observers of a run: they see every event the scheduler emits and the finished report, and add nothing to
the stages (as BuildKit's front ends observe its vertex events). The metrics are one.

An observer never fails a build: what it cannot do, and any error it raises, becomes a warning of the
report (`RunReport.warnings`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from ..catalog.spec import Catalog
from ..core.errors import InternalError
from ..core.events import Event, EventSink
from ..core.results import RunReport
from ..settings.config import Settings


class RunObserver(Protocol):
    name: str  # what its warnings are prefixed with when it breaks

    def event(self, event: Event) -> None:
        """One event of the run, as the scheduler emits it (serialised: one at a time)."""

    def finished(self, report: RunReport) -> list[str]:
        """The run is done and REPORT complete; returns warnings for the report."""
        ...


def default_observers(settings: Settings, catalog: Catalog) -> list[RunObserver]:
    """The observers SETTINGS ask for: metrics when a metrics file or a Pushgateway is set."""
    if settings.metrics_file is None and not settings.pushgateway:
        return []
    from .metrics_publish import MetricsPublisher  # prometheus_client loads only when metrics are wanted

    budgets = {name: spec.size_budget for name, spec in catalog.images.items()}
    return [MetricsPublisher(budgets, settings.metrics_file, settings.pushgateway)]


class Observers:
    """The run's event sink: the caller's (progress lines) first, then each observer's."""

    def __init__(self, sink: EventSink | None, observers: Sequence[RunObserver]) -> None:
        self.sink = sink
        self.observers = list(observers)
        self._broken: dict[str, str] = {}  # observer name -> the error that stopped it

    def event(self, event: Event) -> None:
        if self.sink is not None:
            self.sink(event)
        for observer in self.observers:
            if observer.name in self._broken:
                continue
            try:
                observer.event(event)
            except Exception as exc:  # a bug in an observer: it stops observing, the build goes on
                self._broken[observer.name] = str(InternalError(observer.name, exc))

    def finished(self, report: RunReport) -> list[str]:
        """Every observer's warnings about REPORT, and one for each observer that broke."""
        warnings: list[str] = []
        for observer in self.observers:
            if observer.name in self._broken:
                warnings.append(self._broken[observer.name])
                continue
            try:
                warnings += observer.finished(report)
            except Exception as exc:
                warnings.append(str(InternalError(observer.name, exc)))
        return warnings
