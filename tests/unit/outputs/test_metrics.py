"""baseimages.outputs.metrics: what a run's metrics say, read from a Factory run with a fake engine and an in-memory
registry (no Docker, no network), against the run's own report."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from fakes import FakeEngine, MemoryRegistry

from baseimages.catalog.plan import make_plan
from baseimages.catalog.spec import SizeBudget
from baseimages.core.events import Event, Phase
from baseimages.core.results import ImageResult, ImageStatus, RunReport
from baseimages.core.retry import Request, RetryNotice
from baseimages.outputs.metrics import ALL, METRICS, RetryCounter, Sample, last_promotion, measure
from baseimages.pipeline.factory import Factory
from baseimages.pipeline.options import RunOptions
from baseimages.settings.config import Settings

NOW = dt.datetime(2026, 11, 29, 12, 0, tzinfo=dt.UTC)
REGISTRY = "registry.test:5000"


class Recorder:
    """A run observer that only keeps the events and the report."""

    name = "recorder"

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.report: RunReport | None = None

    def event(self, event: Event) -> None:
        self.events.append(event)

    def finished(self, report: RunReport) -> list[str]:
        self.report = report
        return []


@pytest.fixture
def family(catalog_writer):
    """uv FROM python:3.11-slim (80 MB budget); ml FROM uv, which may add 60 MB and weigh 400 MB."""
    catalog_writer.add("uv", size_budget={"max_mb": 80})
    catalog_writer.add("ml", parent="uv", size_budget={"max_mb": 400, "max_mb_over_parent": 60})
    return catalog_writer


def _run(family, engine=None):
    settings = Settings(root=family.root, registry=REGISTRY, namespace="t")
    catalog = family.load()
    recorder = Recorder()
    factory = Factory(
        settings,
        catalog,
        engine=engine or FakeEngine(build_seconds=0.02),
        registry=MemoryRegistry(),
        observers=[recorder],
    )
    report = factory.run(make_plan(catalog, settings, now=NOW), RunOptions(push=True))
    assert recorder.report is report
    retries = RetryCounter()
    for event in recorder.events:
        retries.event(event)
    budgets = {name: spec.size_budget for name, spec in catalog.images.items()}
    return report, measure(report, budgets, retries)


def _values(samples: list[Sample], metric: str) -> dict[tuple[str, ...], float]:
    return {tuple(value for _, value in s.labels): s.value for s in samples if s.metric == metric}


def test_each_phase_duration_is_the_json_reports_seconds_with_platform_all(family):
    report, samples = _run(family)
    durations = _values(samples, "baseimages_phase_duration_seconds")
    for image in report.to_dict()["images"]:
        assert image["seconds"], image["name"]
        for phase, seconds in image["seconds"].items():
            assert durations[(image["name"], ALL, phase)] == seconds
    assert durations[("uv", ALL, "build")] >= 0.02


def test_each_platform_has_its_own_smoke_duration_result_and_size(family):
    report, samples = _run(family)
    durations = _values(samples, "baseimages_phase_duration_seconds")
    sizes = _values(samples, "baseimages_image_compressed_size_bytes")
    smoke = _values(samples, "baseimages_smoke_success")
    for image in report.images:
        assert [p.platform for p in image.platforms] == ["linux/amd64", "linux/arm64"]
        for platform in image.platforms:
            assert durations[(image.name, platform.platform, "smoke")] == platform.seconds > 0
            assert sizes[(image.name, platform.platform)] == platform.compressed_bytes == 1_000_000
            assert smoke[(image.name, platform.platform)] == 1.0


def test_size_budgets_and_the_parent_size_are_exported_in_bytes_where_the_catalog_sets_them(family):
    _, samples = _run(family)
    assert _values(samples, "baseimages_image_size_budget_bytes") == {
        ("uv", "linux/amd64"): 80e6,
        ("uv", "linux/arm64"): 80e6,
        ("ml", "linux/amd64"): 400e6,
        ("ml", "linux/arm64"): 400e6,
    }
    assert _values(samples, "baseimages_image_growth_budget_bytes") == {
        ("ml", "linux/amd64"): 60e6,
        ("ml", "linux/arm64"): 60e6,
    }
    # uv's compressed size, as the smoke stage measured it against ml's growth budget.
    assert _values(samples, "baseimages_image_parent_compressed_size_bytes") == {
        ("ml", "linux/amd64"): 1e6,
        ("ml", "linux/arm64"): 1e6,
    }


def test_the_run_exports_its_duration_result_and_exit_code(family):
    report, samples = _run(family)
    assert report.finished is not None
    run = {s.metric: s.value for s in samples if not s.labels}
    assert run["baseimages_run_duration_seconds"] == (report.finished - report.started).total_seconds()
    assert run["baseimages_run_success"] == 1.0
    assert run["baseimages_run_exit_code"] == 0.0
    assert run["baseimages_run_timestamp_seconds"] == report.finished.timestamp()


def test_a_promoted_image_records_the_end_of_its_promotion_as_its_last_promotion(family):
    report, samples = _run(family)
    promoted = _values(samples, "baseimages_image_last_promotion_timestamp_seconds")
    uv = report.image("uv")
    assert uv is not None
    assert promoted[("uv", ALL)] == report.started.timestamp() + uv.timeline["promote"][1]
    assert report.started.timestamp() < promoted[("uv", ALL)] <= promoted[("ml", ALL)]
    assert _values(samples, "baseimages_image_success") == {("uv", ALL): 1.0, ("ml", ALL): 1.0}
    assert _values(samples, "baseimages_image_built") == {("uv", ALL): 1.0, ("ml", ALL): 1.0}


def test_a_failed_image_and_its_blocked_child_export_success_0_and_the_run_its_exit_code(family):
    report, samples = _run(family, FakeEngine(fail_build={"uv"}))
    assert report.exit_code == 1
    assert _values(samples, "baseimages_image_success") == {("uv", ALL): 0.0, ("ml", ALL): 0.0}
    assert _values(samples, "baseimages_image_last_promotion_timestamp_seconds") == {}  # never promoted
    run = {s.metric: s.value for s in samples if not s.labels}
    assert (run["baseimages_run_success"], run["baseimages_run_exit_code"]) == (0.0, 1.0)


def _report(*images: ImageResult) -> RunReport:
    return RunReport("push", REGISTRY, started=NOW, finished=NOW + dt.timedelta(seconds=5), images=list(images))


def test_an_unchanged_image_exports_its_build_time_as_last_promotion_and_built_0():
    built = NOW - dt.timedelta(days=3)
    unchanged = ImageResult("uv", f"{REGISTRY}/t/uv", status=ImageStatus.UNCHANGED, registry_build_time=built)
    samples = measure(_report(unchanged), {}, RetryCounter())
    assert _values(samples, "baseimages_image_last_promotion_timestamp_seconds") == {("uv", ALL): built.timestamp()}
    assert _values(samples, "baseimages_image_success") == {("uv", ALL): 1.0}
    assert _values(samples, "baseimages_image_built") == {("uv", ALL): 0.0}
    assert _values(samples, "baseimages_phase_duration_seconds") == {}


def test_a_failed_rebuild_keeps_the_build_time_of_what_its_tags_still_name():
    built = NOW - dt.timedelta(days=40)
    failed = ImageResult("uv", f"{REGISTRY}/t/uv", status=ImageStatus.FAILED, registry_build_time=built)
    failed.seconds["build"] = 1.0
    assert last_promotion(_report(failed), failed) == built.timestamp()


def _retry(image: str | None, phase: Phase = Phase.RETRYING, path: str = "") -> Event:
    request = Request("GET", f"http://{REGISTRY}{path}", f"{REGISTRY}/t/{image}") if path else None
    notice = RetryNotice("GET", 1, "HTTP 503", image=image, request=request)
    return Event(image, phase, 1.0, detail=notice.text, retry=notice)


def test_retries_are_counted_per_image_from_the_events_retry_field_never_from_their_text():
    counter = RetryCounter()
    counter.event(_retry("uv", path="/v2/t/uv/blobs/x"))  # a registry request of uv's
    counter.event(_retry("uv-extra", path="/v2/t/uv-extra/manifests/1"))
    counter.event(_retry(None, path="/v2/library/python/manifests/3.11"))  # an external base's: no image
    counter.event(_retry("uv", Phase.BUILDING))  # a stage's own retry, under the stage's phase
    # Text that reads like a retry is not one: only the field counts.
    counter.event(Event("uv", Phase.BUILDING, 4.0, detail="uv: attempt 1 failed, retrying: HTTP 503"))
    per_image, total = counter.counts(["uv", "uv-extra", "ml"])
    assert per_image == {"uv": 2, "uv-extra": 1, "ml": 0}
    assert total == 4


def test_names_follow_prometheus_conventions_and_labels_are_only_image_platform_phase_and_kind():
    for metric in METRICS:
        assert re.fullmatch(r"baseimages_[a-z_]+", metric.name)
        assert not metric.name.endswith("_total"), "every metric is a gauge of the last run, not a counter"
        unit = metric.name.rsplit("_", 1)[-1]
        if "duration" in metric.name or "timestamp" in metric.name:
            assert unit == "seconds"
        if "size" in metric.name or "budget" in metric.name:
            assert unit == "bytes"
        assert set(metric.labels) <= {"image", "platform", "phase", "kind"}
        assert "phase" not in metric.labels or metric.name == "baseimages_phase_duration_seconds"
        assert "kind" not in metric.labels or "update" in metric.name


def test_a_size_budget_without_a_limit_exports_no_budget(family):
    report, _ = _run(family)
    samples = measure(report, {"uv": SizeBudget(max_mb=None), "ml": None}, RetryCounter())
    assert _values(samples, "baseimages_image_size_budget_bytes") == {}
    assert _values(samples, "baseimages_image_growth_budget_bytes") == {}


def test_the_operations_guides_metrics_table_names_every_metric_with_its_labels():
    page = Path(__file__).resolve().parents[3] / "docs" / "operations.md"
    rows = re.findall(r"^\| `(baseimages_[a-z_]+)` \|([^|]*)\|", page.read_text(), re.MULTILINE)
    documented = {
        name: {label.split("=")[0].strip() for label in labels.split(",") if label.strip()} for name, labels in rows
    }
    assert documented == {metric.name: set(metric.labels) for metric in METRICS}
