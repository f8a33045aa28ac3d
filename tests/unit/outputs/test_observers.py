"""baseimages.outputs.observers: observers see every event and the finished report, and never fail a build."""

from __future__ import annotations

import datetime as dt
import json

from fakes import FakeEngine, MemoryRegistry

from baseimages.catalog.plan import make_plan
from baseimages.core.events import Event, Phase
from baseimages.core.results import RunReport
from baseimages.outputs.files import JsonReport, ReportFiles
from baseimages.outputs.metrics_publish import MetricsPublisher
from baseimages.outputs.observers import default_observers
from baseimages.pipeline.factory import Factory
from baseimages.pipeline.options import RunOptions
from baseimages.settings.config import Settings

NOW = dt.datetime(2026, 11, 29, 12, 0, tzinfo=dt.UTC)


class Broken:
    """An observer with a bug: in its event handler (WHERE="event") or when the run is done ("finished")."""

    def __init__(self, where: str) -> None:
        self.name = f"broken-{where}"
        self.where = where
        self.events = 0

    def event(self, event: Event) -> None:
        self.events += 1
        if self.where == "event":
            raise KeyError("boom")

    def finished(self, report: RunReport) -> list[str]:
        if self.where == "finished":
            raise ValueError("boom")
        return ["never said"]


def _run(catalog_writer, observers, events=None):
    catalog_writer.add("uv")
    settings = Settings(root=catalog_writer.root, registry="registry.test:5000", namespace="t")
    catalog = catalog_writer.load()
    sink = None if events is None else events.append
    factory = Factory(
        settings, catalog, engine=FakeEngine(), registry=MemoryRegistry(), on_event=sink, observers=observers
    )
    return factory.run(make_plan(catalog, settings, now=NOW), RunOptions(push=True))


def test_an_observer_that_breaks_on_an_event_stops_observing_and_the_build_passes_with_a_warning(catalog_writer):
    broken = Broken("event")
    progress: list[Event] = []
    report = _run(catalog_writer, [broken], progress)
    assert report.exit_code == 0
    assert broken.events == 1  # not called again after it broke
    assert report.warnings == ["broken-event: internal error (please report it): KeyError: 'boom'"]
    assert Phase.PROMOTED in [e.phase for e in progress]  # the progress lines saw every event all the same


def test_an_observer_that_breaks_when_the_run_is_done_is_a_warning_and_the_others_still_publish(catalog_writer):
    report = _run(catalog_writer, [Broken("finished"), Broken("never")])
    assert report.exit_code == 0
    assert report.warnings == ["broken-finished: internal error (please report it): ValueError: boom", "never said"]


def test_metrics_are_observed_only_when_a_metrics_file_or_a_pushgateway_is_set(catalog_writer, tmp_path):
    catalog_writer.add("uv", size_budget={"max_mb": 80})
    catalog = catalog_writer.load()
    assert _metrics(default_observers(Settings(root=tmp_path), catalog)) == []
    (file_only,) = _metrics(default_observers(Settings(root=tmp_path, metrics_file=tmp_path / "m.prom"), catalog))
    gateway = Settings(root=tmp_path, pushgateway="http://127.0.0.1:9091")
    (gateway_only,) = _metrics(default_observers(gateway, catalog))
    for observer in (file_only, gateway_only):
        assert isinstance(observer, MetricsPublisher)
        assert observer.budgets["uv"] is not None and observer.budgets["uv"].max_mb == 80
    assert (file_only.metrics_file, file_only.pushgateway) == (tmp_path / "m.prom", "")
    assert (gateway_only.metrics_file, gateway_only.pushgateway) == (None, "http://127.0.0.1:9091")


def _metrics(observers):
    return [observer for observer in observers if isinstance(observer, MetricsPublisher)]


def test_the_json_report_is_observed_last_so_that_it_holds_every_other_observers_warnings(catalog_writer, tmp_path):
    catalog_writer.add("uv")
    settings = Settings(root=tmp_path, metrics_file=tmp_path / "m.prom")
    observers = default_observers(settings, catalog_writer.load(), report=tmp_path / "r.json")
    assert [type(o) for o in observers] == [MetricsPublisher, ReportFiles, JsonReport]
    assert [type(o) for o in default_observers(settings, catalog_writer.load())] == [MetricsPublisher, ReportFiles]


def test_a_report_for_people_that_cannot_be_written_is_a_warning_the_json_report_holds(catalog_writer, tmp_path):
    catalog_writer.add("uv")
    settings = Settings(root=catalog_writer.root, registry="registry.test:5000", namespace="t")
    catalog = catalog_writer.load()
    summary = tmp_path / "gone" / "summary.md"  # its folder does not exist
    observers = [ReportFiles(settings, environ={"GITHUB_STEP_SUMMARY": str(summary)}), JsonReport(tmp_path / "r.json")]
    factory = Factory(settings, catalog, engine=FakeEngine(), registry=MemoryRegistry(), observers=observers)
    report = factory.run(make_plan(catalog, settings, now=NOW), RunOptions(push=True))
    assert report.exit_code == 0
    (warning,) = report.warnings
    assert warning.startswith("environment: GITHUB_STEP_SUMMARY: cannot write") and warning.endswith("not written")
    assert json.loads((tmp_path / "r.json").read_text())["warnings"] == [warning]
