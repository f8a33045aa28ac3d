"""Observers of a run: they see every event the scheduler emits and the finished report, and add nothing to
the stages (as BuildKit's front ends observe its vertex events). Everything a run writes or sends besides
the images is one: the notifications of promotions, the metrics (textfile, Pushgateway), the reports for
people (Markdown, HTML, GitHub's summary and outputs) and the JSON report, in that order, so that each
later one holds the earlier ones' warnings (and the exit code a failed notification sets).

An observer never fails a build: what it cannot do, and any error it raises, becomes a warning of the
report (`RunReport.warnings`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Protocol

from ..catalog.spec import Catalog
from ..core.errors import InternalError
from ..core.events import Event, EventSink
from ..core.results import RunReport
from ..settings.config import Settings
from .files import JsonReport, ReportFiles
from .notify import Notifier


class RunObserver(Protocol):
    name: str  # what its warnings are prefixed with when it breaks

    def event(self, event: Event) -> None:
        """One event of the run, as the scheduler emits it (serialised: one at a time)."""

    def finished(self, report: RunReport) -> list[str]:
        """The run is done and REPORT complete; returns warnings for the report."""
        ...


def default_observers(
    settings: Settings,
    catalog: Catalog,
    report: Path | None = None,
    environ: Mapping[str, str] | None = None,
    metrics: bool = True,
) -> list[RunObserver]:
    """The observers SETTINGS ask for: notifications when notify URLs are set, metrics when a metrics file
    or a Pushgateway is set (and METRICS), the reports for people (and GitHub's, per ENVIRON, else
    os.environ), the JSON report when REPORT names a file."""
    observers: list[RunObserver] = []
    if settings.notify_url:
        observers.append(Notifier(settings, report))
    if metrics and (settings.metrics_file is not None or settings.pushgateway):
        from .metrics_publish import MetricsPublisher  # prometheus_client loads only when metrics are wanted

        budgets = {name: spec.size_budget for name, spec in catalog.images.items()}
        observers.append(MetricsPublisher(budgets, settings.metrics_file, settings.pushgateway))
    observers.append(ReportFiles(settings, environ))
    if report is not None:
        observers.append(JsonReport(report))
    return observers


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

    def finished(self, report: RunReport) -> None:
        """Each observer in turn sees REPORT; its warnings, or one for an observer that broke, are added
        to REPORT's as it goes (the observers after it see them)."""
        for observer in self.observers:
            if observer.name in self._broken:
                report.warnings.append(self._broken[observer.name])
                continue
            try:
                report.warnings.extend(observer.finished(report))
            except Exception as exc:
                report.warnings.append(str(InternalError(observer.name, exc)))
