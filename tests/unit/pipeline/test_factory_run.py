"""Factory.run as a library call: its RunOptions, the run lock it holds, every file the settings ask for,
and registry retries reported as typed events attributed to the image they concern. Fake engine,
in-memory or in-process registries: no Docker, no network."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from fake_image import make_image
from fakes import FakeEngine, MemoryRegistry
from prometheus_client.parser import text_string_to_metric_families
from report_family import GrowingRegistry, TimedEngine, write_family

import baseimages
from baseimages.catalog.changes import RefreshPolicy
from baseimages.core.errors import ConfigError
from baseimages.core.events import Event, Phase
from baseimages.core.lock import LockedError, RunLock
from baseimages.pipeline.stages import default_stages

NOW = dt.datetime(2026, 11, 29, 12, 0, tzinfo=dt.UTC)
REGISTRY = "registry.test:5000"


# --------------------------------------------------------------------------- RunOptions


def test_run_options_default_to_a_build_that_pushes_nothing():
    options = baseimages.RunOptions()
    assert (options.push, options.force, options.refresh, options.no_cache, options.lock_wait) == (
        False,
        False,
        None,
        False,
        0.0,
    )
    assert options.command == "build" and baseimages.RunOptions(push=True).command == "push"


def test_force_with_a_refresh_policy_is_refused_in_one_line_naming_both():
    with pytest.raises(ConfigError) as info:
        baseimages.RunOptions(force=True, refresh=RefreshPolicy(mode="monthly"))
    message = str(info.value)
    assert message.startswith("RunOptions: force: and refresh=") and "monthly" in message
    assert "\n" not in message and info.value.exit_code == 2


def test_the_refresh_policy_is_the_given_one_else_the_settings_window_forced_by_force():
    monthly = RefreshPolicy(mode="monthly")
    assert baseimages.RunOptions(refresh=monthly).refresh_policy(days=30) is monthly
    assert baseimages.RunOptions().refresh_policy(days=7) == RefreshPolicy(mode="window", days=7, force=False)
    assert baseimages.RunOptions(force=True).refresh_policy(days=7) == RefreshPolicy(days=7, force=True)


@pytest.mark.parametrize(
    ("fields", "field", "problem"),
    [
        ({"lock_wait": -1.0}, "lock_wait", "is -1.0; seconds to wait must be 0 or more"),
        ({"refresh": RefreshPolicy(mode="weekly")}, "refresh", "mode 'weekly' is not one of window, monthly, updates"),
    ],
)
def test_an_option_out_of_range_is_a_config_error_naming_it(fields, field, problem):
    with pytest.raises(ConfigError) as info:
        baseimages.RunOptions(**fields)
    assert (info.value.source, info.value.field, info.value.problem) == ("RunOptions", field, problem)


def test_a_json_report_whose_folder_does_not_exist_is_refused_before_anything_runs(tmp_path):
    with pytest.raises(ConfigError) as info:
        baseimages.RunOptions(report=tmp_path / "missing" / "r.json")
    assert (info.value.field, info.value.problem) == ("report", f"no such directory: {tmp_path / 'missing'}")
    assert baseimages.RunOptions(report=str(tmp_path / "r.json")).report == tmp_path / "r.json"  # type: ignore[arg-type]


# --------------------------------------------------------------------------- the lock and the files


@pytest.fixture
def family(catalog_writer):
    return write_family(catalog_writer)


def _settings(root, tmp_path, **fields):
    return baseimages.Settings(root=root, registry=REGISTRY, namespace="t", lock_dir=tmp_path / "locks", **fields)


def test_a_library_run_writes_every_file_the_settings_ask_for_as_the_cli_does(family, tmp_path, monkeypatch):
    summary, outputs = tmp_path / "summary.md", tmp_path / "outputs"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    monkeypatch.setenv("GITHUB_OUTPUT", str(outputs))
    out = tmp_path / "out"
    out.mkdir()
    settings = _settings(
        family.root,
        tmp_path,
        report_md=out / "r.md",
        report_html=out / "r.html",
        log_dir=out / "logs",
        metrics_file=out / "m.prom",
    )
    catalog = family.load()
    plan = baseimages.make_plan(catalog, settings, now=NOW)
    factory = baseimages.Factory(settings, catalog, engine=TimedEngine(), registry=GrowingRegistry())
    report = factory.run(plan, baseimages.RunOptions(push=True, report=out / "r.json"))
    assert report.exit_code == 0 and report.warnings == []
    assert sorted(p.name for p in out.iterdir()) == ["logs", "m.prom", "r.html", "r.json", "r.md"]
    assert json.loads((out / "r.json").read_text()) == json.loads(json.dumps(report.to_dict()))
    assert (out / "r.md").read_text().startswith("## baseimages push: 3 promoted (ok)")
    assert summary.read_text().startswith("## baseimages push: 3 promoted (ok)")
    assert outputs.read_text().splitlines() == [f"{i.name}-digest={i.digest}" for i in report.images]
    assert "<svg" in (out / "r.html").read_text()
    assert report.logs == {name: out / "logs" / f"{name}.log" for name in ("uv", "ml", "security")}
    assert "#6 1.000 Downloading part 0 of a wheel" in (out / "logs" / "uv.log").read_text()
    families = {f.name for f in text_string_to_metric_families((out / "m.prom").read_text())}
    assert "baseimages_run_exit_code" in families


def test_a_library_run_holds_the_run_lock_and_a_second_run_with_no_wait_is_refused(family, tmp_path):
    settings = _settings(family.root, tmp_path)
    catalog = family.load()
    plan = baseimages.make_plan(catalog, settings, now=NOW)
    refused: list[BaseException] = []
    other = baseimages.Factory(settings, catalog, engine=FakeEngine(), registry=MemoryRegistry())

    def second_run(event: Event) -> None:
        if event.phase is Phase.WAITING and event.image == "uv":  # the first run has started
            with pytest.raises(LockedError) as info:
                other.run(plan, baseimages.RunOptions(push=True, lock_wait=0))
            refused.append(info.value)

    first = baseimages.Factory(settings, catalog, engine=FakeEngine(), registry=MemoryRegistry(), on_event=second_run)
    report = first.run(plan, baseimages.RunOptions(push=True))
    assert report.exit_code == 0
    (error,) = refused
    assert f"pid {__import__('os').getpid()}, push since" in str(error) and error.exit_code == 5
    with RunLock(settings.lock_dir, REGISTRY, "t"):  # released once the run is over
        pass


def test_a_build_takes_the_same_lock_as_a_push(family, tmp_path):
    settings = _settings(family.root, tmp_path)
    catalog = family.load()
    factory = baseimages.Factory(settings, catalog, engine=FakeEngine(), registry=MemoryRegistry())
    with RunLock(settings.lock_dir, REGISTRY, "t", what="push"), pytest.raises(LockedError):
        factory.run(baseimages.make_plan(catalog, settings, now=NOW))


# --------------------------------------------------------------------------- typed retry events


def test_registry_retries_are_typed_events_of_the_image_whose_repository_they_concern(
    catalog_writer, fake_registry, make_client, monkeypatch, tmp_path
):
    """tiny's own manifest read answers 503 once (tiny's retry), and so does its external base's (no image's):
    each is a RETRYING event whose fields say whose, which request, which attempt and why; the metrics
    count them from those fields."""
    fake_registry.preload("library/python", make_image("base"), tag="3.11-slim")
    catalog_writer.add("tiny", parent=f"{fake_registry.address}/library/python:3.11-slim")
    fake_registry.fault("503", times=1, path=r"^/v2/t/tiny/manifests/")
    fake_registry.fault("503", times=1, path=r"^/v2/library/python/manifests/")
    monkeypatch.setattr(
        "baseimages.pipeline.factory.registry_client", lambda settings, on_retry=None: make_client(on_retry=on_retry)
    )
    settings = baseimages.Settings(
        root=catalog_writer.root,
        registry=fake_registry.address,
        namespace="t",
        lock_dir=tmp_path / "locks",
        metrics_file=tmp_path / "m.prom",
    )
    catalog = catalog_writer.load()
    events: list[Event] = []
    factory = baseimages.Factory(
        settings, catalog, engine=FakeEngine(), stages=default_stages()[:1], on_event=events.append
    )
    factory.run(baseimages.make_plan(catalog, settings, now=NOW), baseimages.RunOptions(push=True))

    retries = [e for e in events if e.retry is not None]
    assert all(e.phase is Phase.RETRYING and e.image == e.retry.image for e in retries)
    by_path = {e.retry.request.path: e.retry for e in retries if e.retry.request is not None}
    own = by_path["/v2/t/tiny/manifests/1.0.0"]
    base = by_path["/v2/library/python/manifests/3.11-slim"]
    assert (own.image, own.attempt, own.request.repository) == ("tiny", 1, f"{fake_registry.address}/t/tiny")
    assert (base.image, base.attempt) == (None, 1)
    assert own.reason.startswith(f"{fake_registry.address}: HTTP 503") and own.request.method in ("GET", "HEAD")
    assert len(retries) == 2

    series = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for f in text_string_to_metric_families((tmp_path / "m.prom").read_text())
        for s in f.samples
    }
    assert series[("baseimages_image_registry_retries", (("image", "tiny"), ("platform", "all")))] == 1
    assert series[("baseimages_run_registry_retries", ())] == 2


def test_a_stages_own_retry_is_an_event_of_its_image_under_the_stages_phase(catalog_writer, tmp_path):
    catalog_writer.add("uv")
    catalog_writer.add("ml", parent="uv")
    settings = _settings(catalog_writer.root, tmp_path)
    catalog = catalog_writer.load()
    events: list[Event] = []
    registry = MemoryRegistry(retry=baseimages.RetryPolicy(attempts=3, max_seconds=5, initial_wait=0.01, max_wait=0.01))
    engine = FakeEngine(lose_session={"ml"})
    factory = baseimages.Factory(settings, catalog, engine=engine, registry=registry, on_event=events.append)
    report = factory.run(baseimages.make_plan(catalog, settings, now=NOW), baseimages.RunOptions(push=True))
    assert report.exit_code == 0
    (retry,) = [e for e in events if e.retry is not None]
    assert (retry.image, retry.phase, retry.retry.image, retry.retry.attempt) == ("ml", Phase.BUILDING, "ml", 1)
    assert retry.retry.request is None and "DeadlineExceeded" in retry.retry.reason
