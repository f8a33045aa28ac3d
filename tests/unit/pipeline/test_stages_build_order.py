"""The Build stage starts the platforms the engine emulates first, and the native ones after their head
start (or once they have ended): with a fake engine that says which machine it runs on."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import pytest
from fakes import FakeEngine, MemoryRegistry

from baseimages.catalog.plan import make_plan
from baseimages.engine.client import BuildRequest
from baseimages.pipeline.actions import PlatformBuild
from baseimages.pipeline.factory import Factory
from baseimages.pipeline.options import RunOptions
from baseimages.pipeline.stages import build, default_stages
from baseimages.pipeline.stages.sbom import AttachSbom
from baseimages.settings.config import Settings

NOW = dt.datetime(2026, 11, 29, 12, 0, tzinfo=dt.UTC)
AMD64, ARM64 = "linux/amd64", "linux/arm64"


@pytest.fixture
def one_image(catalog_writer):
    catalog_writer.add("uv")
    return catalog_writer


def _run(catalog_writer, engine, builders=None):
    settings = Settings(root=catalog_writer.root, registry="registry.test:5000", namespace="t", builders=builders or {})
    catalog = catalog_writer.load()
    stages = [s for s in default_stages() if not isinstance(s, AttachSbom)]  # no cdxgen here
    registry = MemoryRegistry()
    factory = Factory(settings, catalog, engine=engine, registry=registry, stages=stages)
    report = factory.run(make_plan(catalog, settings, now=NOW), RunOptions(push=True))
    assert report.exit_code == 0, [i.error for i in report.images]
    return report, registry


def _lag(engine):
    """How long after the arm64 build the amd64 one started (negative: before)."""
    return engine.started[("uv", AMD64)] - engine.started[("uv", ARM64)]


def test_on_an_x86_64_engine_arm64_starts_first_and_amd64_when_its_head_start_is_over(one_image, monkeypatch):
    monkeypatch.setattr(build, "HEAD_START", 0.3)
    engine = FakeEngine(machine="x86_64", platform_seconds={ARM64: 1.5})
    _run(one_image, engine)
    assert 0.25 <= _lag(engine) < 1.5  # after the head start, long before arm64's build ended
    assert engine.most_concurrent_of_image == 2  # then both build at once


def test_the_index_lists_the_platforms_in_the_catalogs_order_whichever_started_first(one_image, monkeypatch):
    monkeypatch.setattr(build, "HEAD_START", 0.1)
    engine = FakeEngine(machine="x86_64")
    report, registry = _run(one_image, engine)
    assert _lag(engine) > 0  # arm64 started first
    assert registry.indexes[report.image("uv").digest] == [AMD64, ARM64]


def test_on_an_aarch64_engine_amd64_is_the_one_that_starts_first(one_image, monkeypatch):
    monkeypatch.setattr(build, "HEAD_START", 0.3)
    engine = FakeEngine(machine="aarch64", platform_seconds={AMD64: 1.5})
    _run(one_image, engine)
    assert _lag(engine) <= -0.25


def test_the_native_platform_starts_as_soon_as_the_emulated_build_has_ended(one_image, monkeypatch):
    monkeypatch.setattr(build, "HEAD_START", 30.0)
    engine = FakeEngine(machine="x86_64", platform_seconds={ARM64: 0.2})
    _run(one_image, engine)
    assert 0.15 <= _lag(engine) < 5.0  # not the whole head start


def test_a_failed_emulated_build_ends_the_head_start(monkeypatch):
    monkeypatch.setattr(build, "HEAD_START", 30.0)
    lead = build.HeadStart({ARM64}, {AMD64})
    with pytest.raises(RuntimeError), lead.running(ARM64):
        raise RuntimeError("the build failed")
    started = time.monotonic()
    lead.wait(AMD64)  # nothing left to wait for
    assert time.monotonic() - started < 5.0
    assert [b.platform for b in lead.first([_build(AMD64), _build(ARM64)])] == [ARM64, AMD64]  # the order they start in


def test_a_platform_on_a_builder_of_its_own_never_waits_for_the_head_start(monkeypatch):
    monkeypatch.setattr(build, "HEAD_START", 30.0)
    lead = build.HeadStart({"linux/s390x"}, {AMD64})  # arm64 mapped elsewhere: neither emulated nor native here
    started = time.monotonic()
    lead.wait(ARM64)
    assert time.monotonic() - started < 5.0


@pytest.mark.parametrize(
    ("machine", "builders"),
    [("", {}), ("x86_64", {ARM64: "node2"})],
    ids=["the engine does not say its machine", "arm64 on a builder of its own"],
)
def test_every_platform_starts_at_once_when_none_is_known_to_be_emulated_here(
    one_image, monkeypatch, machine, builders
):
    monkeypatch.setattr(build, "HEAD_START", 5.0)
    engine = FakeEngine(machine=machine, build_seconds=0.3)
    _run(one_image, engine, builders=builders)
    assert abs(_lag(engine)) < 0.25
    assert engine.most_concurrent_of_image == 2


def _build(platform):
    request = BuildRequest(context=Path("."), dockerfile=Path("Dockerfile"), platforms=(platform,))
    return PlatformBuild(platform, "default", request)
