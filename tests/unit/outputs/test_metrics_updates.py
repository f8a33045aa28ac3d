"""The waiting-updates gauges beside the build metrics: a run whose report carries a look (refresh `updates`)
measures baseimages_update_waiting_seconds and baseimages_updates_installable as that look found them, and
`publish_waiting` (what the `updates` command calls) sends them to the metrics file and the Pushgateway
without touching a run's metrics there."""

from __future__ import annotations

import datetime as dt
import socket

import pytest
from fake_look import AMD, ARM, CHECKED, DAY, POINT, PYTHON, SECURITY, look
from fake_pushgateway import FakePushgateway
from fakes import FakeEngine, MemoryRegistry

from baseimages.catalog.changes import RefreshPolicy
from baseimages.catalog.plan import make_plan
from baseimages.core.results import ImageResult, ImageStatus, RunReport
from baseimages.outputs.metrics import ALL, RetryCounter, measure, sample
from baseimages.outputs.metrics_publish import publish_waiting, read_textfile, write_textfile
from baseimages.pipeline.factory import Factory
from baseimages.pipeline.options import RunOptions
from baseimages.settings.config import Settings
from baseimages.updates import WaitingState, found

REGISTRY = "registry.test:5000"
WAITING, INSTALLABLE = "baseimages_update_waiting_seconds", "baseimages_updates_installable"
LOOK = look(REGISTRY, uv={AMD: (POINT, SECURITY, PYTHON), ARM: ()}, ml="deb.example: unreachable", new=None)


def _gauges(samples, metric: str) -> dict[tuple[str, ...], float]:
    """(image, platform, kind) -> value of METRIC's series among SAMPLES."""
    return {tuple(value for _, value in s.labels): s.value for s in samples if s.metric == metric}


def _report(updates: dict | None) -> RunReport:
    images = [ImageResult(name, f"{REGISTRY}/t/{name}", status=ImageStatus.UNCHANGED) for name in ("uv", "ml", "new")]
    later = CHECKED + dt.timedelta(hours=1)
    return RunReport("push", REGISTRY, CHECKED, later, images=images, updates=updates)


def test_a_run_with_a_look_measures_per_image_platform_and_kind_how_long_the_oldest_update_waited_and_how_many():
    samples = measure(_report(LOOK.to_dict()), {}, RetryCounter())
    assert _gauges(samples, WAITING) == {
        ("uv", AMD, "any"): 10 * DAY,  # tzdata, first seen 10 days before the look
        ("uv", AMD, "security"): 2 * DAY,
        ("uv", ARM, "any"): 0.0,
        ("uv", ARM, "security"): 0.0,
    }  # ml's look failed and new is not promoted: the run says nothing of them
    assert _gauges(samples, INSTALLABLE) == {
        ("uv", AMD, "any"): 3.0,
        ("uv", AMD, "security"): 1.0,
        ("uv", ARM, "any"): 0.0,
        ("uv", ARM, "security"): 0.0,
    }


def test_a_run_without_a_look_or_with_an_unreadable_one_measures_no_waiting_updates():
    for updates in (None, {"schema": "baseimages.updates/v1", "images": "?"}):
        samples = measure(_report(updates), {}, RetryCounter())
        assert not _gauges(samples, WAITING) and not _gauges(samples, INSTALLABLE)
        assert any(s.metric == "baseimages_run_success" for s in samples)


def _state() -> WaitingState:
    """The waiting state after LOOK, with ml (whose look failed) known from an earlier look."""
    state = found(LOOK)
    earlier = found(look(REGISTRY, ml={AMD: (SECURITY,)}))
    return WaitingState({**state.images, **earlier.images})


def test_publish_waiting_writes_the_gauges_into_the_metrics_file_and_keeps_what_a_run_wrote(tmp_path):
    path = tmp_path / "baseimages.prom"
    run = [
        sample("baseimages_run_exit_code", 0),
        sample("baseimages_image_success", 1, image="uv", platform=ALL),
        sample(WAITING, 99 * DAY, image="uv", platform=AMD, kind="any"),  # an earlier look's
    ]
    write_textfile(path, run)
    warnings = publish_waiting(Settings(root=tmp_path, metrics_file=path), LOOK, _state())
    assert warnings == []
    series = read_textfile(path)
    assert _gauges(series, WAITING)[("uv", AMD, "any")] == 10 * DAY
    assert _gauges(series, WAITING)[("ml", AMD, "security")] == 2 * DAY  # known from before its look failed
    assert {s.metric for s in series} >= {"baseimages_run_exit_code", "baseimages_image_success", INSTALLABLE}


def test_publish_waiting_posts_each_images_gauges_to_its_group_and_never_replaces_the_runs_group(tmp_path):
    with FakePushgateway() as gateway:
        warnings = publish_waiting(Settings(root=tmp_path, pushgateway=gateway.url), LOOK, _state())
    assert warnings == []
    assert [(p.method, p.path) for p in gateway.pushes] == [
        ("POST", "/metrics/job/baseimages/image/ml"),
        ("POST", "/metrics/job/baseimages/image/uv"),
    ]
    uv = gateway.push_to("/metrics/job/baseimages/image/uv")
    assert uv.value(WAITING, image="uv", platform=AMD, kind="security") == 2 * DAY
    assert uv.value(INSTALLABLE, image="uv", platform=AMD, kind="any") == 3.0
    assert {name for name, _ in uv.series} == {WAITING, INSTALLABLE}


def test_an_image_the_state_knows_but_the_look_did_not_cover_is_not_published(tmp_path):
    state = WaitingState({**_state().images, **found(look(REGISTRY, removed={AMD: (SECURITY,)})).images})
    with FakePushgateway() as gateway:
        publish_waiting(Settings(root=tmp_path, pushgateway=gateway.url), LOOK, state)
    assert "/metrics/job/baseimages/image/removed" not in [p.path for p in gateway.pushes]


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_pushgateway_that_is_down_is_one_warning(tmp_path):
    url = f"http://127.0.0.1:{_closed_port()}"
    (warning,) = publish_waiting(Settings(root=tmp_path, pushgateway=url), LOOK, _state())
    assert warning.startswith(f"pushgateway: {url} unreachable (")
    assert warning.endswith("2 of 2 metric groups not pushed")


@pytest.fixture
def family(catalog_writer):
    catalog_writer.add("uv")
    catalog_writer.add("solo")
    return catalog_writer


@pytest.fixture(autouse=True)
def fake_cdxgen(monkeypatch):
    import baseimages.pipeline.stages.sbom as sbom_stage

    monkeypatch.setattr(sbom_stage, "generate_sbom", lambda rootfs, output, image, platform: {"bomFormat": "x"})


def test_a_push_with_refresh_updates_publishes_the_waiting_gauges_with_the_build_metrics(family, monkeypatch, tmp_path):
    import baseimages.pipeline.factory as factory_module

    path = tmp_path / "baseimages.prom"
    with FakePushgateway() as gateway:
        settings = Settings(
            root=family.root, registry=REGISTRY, namespace="t", updates_state=tmp_path / "state.json",
            metrics_file=path, pushgateway=gateway.url,
        )  # fmt: skip
        catalog = family.load()
        plan = make_plan(catalog, settings, now=CHECKED)
        monkeypatch.setattr(factory_module, "look", lambda *args: look(REGISTRY, uv={AMD: (POINT,)}, solo={AMD: ()}))
        report = Factory(settings, catalog, engine=FakeEngine(), registry=MemoryRegistry()).run(
            plan, RunOptions(push=True, refresh=RefreshPolicy("updates"))
        )
    assert report.warnings == []
    file = _gauges(read_textfile(path), INSTALLABLE)
    assert file == {("uv", AMD, "any"): 1.0, ("uv", AMD, "security"): 0.0, ("solo", AMD, "any"): 0.0,
                    ("solo", AMD, "security"): 0.0}  # fmt: skip
    uv = gateway.push_to("/metrics/job/baseimages/image/uv")
    assert uv.value(INSTALLABLE, image="uv", platform=AMD, kind="any") == 1.0
    assert uv.value("baseimages_image_success", image="uv", platform=ALL) == 1.0
