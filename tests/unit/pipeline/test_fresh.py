"""The refresh policy `updates` (pipeline.fresh): a skipped image with an installable update of the kind that
counts is built afresh, its verdict naming the packages; the run records its look and reports it. The look
itself (archives, index, layers) is the updates package's; here it is given."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from fakes import FakeEngine, MemoryRegistry

from baseimages.catalog.changes import Action, Decision, RefreshPolicy
from baseimages.catalog.fingerprint import Inputs
from baseimages.catalog.plan import make_plan
from baseimages.core.results import ImageStatus
from baseimages.pipeline.factory import Factory
from baseimages.pipeline.fresh import rebuild_for_updates
from baseimages.pipeline.options import RunOptions
from baseimages.settings.config import Settings
from baseimages.updates import DebianUpdate, ImageUpdates, PlatformUpdates, PythonUpdate, UpdatesReport

NOW = dt.datetime(2026, 11, 29, 12, 0, tzinfo=dt.UTC)
REGISTRY = "registry.test:5000"
AMD, ARM = "linux/amd64", "linux/arm64"
SECURITY = DebianUpdate(
    "openssl", "3.0.11-1", "3.0.15-1", "bookworm-security", True, "http://deb.debian.org/debian-security"
)
POINT = DebianUpdate("tzdata", "2024a-0", "2025b-0", "bookworm-updates", False, "http://deb.debian.org/debian")
PYTHON = PythonUpdate("/opt/venv", "rich", "13.7.1", "13.9.4")


def _found(**images: dict[str, tuple]) -> UpdatesReport:
    """A look: image -> platform -> its updates."""
    return UpdatesReport(
        NOW,
        tuple(
            ImageUpdates(name, f"{REGISTRY}/t/{name}:1.0.0", "sha256:" + "a" * 64, tuple(
                PlatformUpdates(platform, "sha256:" + "b" * 64,
                                tuple(u for u in updates if isinstance(u, DebianUpdate)),
                                tuple(u for u in updates if isinstance(u, PythonUpdate)))
                for platform, updates in platforms.items()
            ))
            for name, platforms in images.items()
        ),
    )  # fmt: skip


SKIP = Decision(Action.SKIP, ("unchanged",), Inputs("d", "c", "a", "p", "sha256:base"))


class _Image:
    name = "uv"


def test_a_skipped_image_with_a_security_update_is_built_afresh_naming_the_package():
    review = rebuild_for_updates(_found(uv={AMD: (SECURITY,), ARM: (SECURITY,)}), RefreshPolicy("updates"))
    decision = review(_Image(), SKIP)  # type: ignore[arg-type]
    assert decision.action is Action.BUILD and decision.fresh
    assert decision.reasons == ("installable security update: openssl 3.0.11-1 -> 3.0.15-1 (bookworm-security)",)


def test_a_multi_arch_package_is_named_once_for_the_platforms_it_waits_on():
    amd = DebianUpdate("libssl3:amd64", "3.0.15-1", "3.0.16-1", "bookworm-security", True, "http://deb.debian.org/x")
    arm = DebianUpdate("libssl3:arm64", "3.0.15-1", "3.0.16-1", "bookworm-security", True, "http://deb.debian.org/x")
    review = rebuild_for_updates(_found(uv={AMD: (amd,), ARM: (arm,)}), RefreshPolicy("updates"))
    reason = review(_Image(), SKIP).reasons[0]  # type: ignore[arg-type]
    assert reason == "installable security update: libssl3 3.0.15-1 -> 3.0.16-1 (bookworm-security)"


def test_an_update_on_one_platform_only_says_which():
    review = rebuild_for_updates(_found(uv={AMD: (SECURITY,), ARM: ()}), RefreshPolicy("updates"))
    assert review(_Image(), SKIP).reasons[0].endswith("(bookworm-security) on linux/amd64")  # type: ignore[arg-type]


def test_only_security_updates_count_unless_any_is_asked_for_and_then_python_counts_too():
    found = _found(uv={AMD: (POINT, PYTHON), ARM: (POINT, PYTHON)})
    security = rebuild_for_updates(found, RefreshPolicy("updates"))(_Image(), SKIP)  # type: ignore[arg-type]
    assert security.action is Action.SKIP and security.reasons == ("unchanged", "no installable security update")
    every = rebuild_for_updates(found, RefreshPolicy("updates", updates="any"))(_Image(), SKIP)  # type: ignore[arg-type]
    assert every.action is Action.BUILD and every.fresh
    assert every.reasons == (
        "installable updates: tzdata 2024a-0 -> 2025b-0 (bookworm-updates); rich (/opt/venv) 13.7.1 -> 13.9.4 (index)",
    )


def test_a_verdict_that_builds_anyway_is_left_alone_and_a_failed_look_keeps_the_verdict_with_its_reason():
    found = _found(uv={AMD: (SECURITY,)})
    build = Decision(Action.BUILD, ("inputs changed: Dockerfile",), SKIP.inputs)
    assert rebuild_for_updates(found, RefreshPolicy("updates"))(_Image(), build) == build  # type: ignore[arg-type]
    failed = UpdatesReport(NOW, (ImageUpdates("uv", "r/t/uv:1.0.0", None, error="deb.debian.org: unreachable"),))
    kept = rebuild_for_updates(failed, RefreshPolicy("updates"))(_Image(), SKIP)  # type: ignore[arg-type]
    assert kept.action is Action.SKIP and kept.reasons[-1] == "updates not known: deb.debian.org: unreachable"


@pytest.fixture
def family(catalog_writer):
    catalog_writer.add("uv")
    catalog_writer.add("ml", parent="uv")
    catalog_writer.add("solo")
    return catalog_writer


@pytest.fixture(autouse=True)
def fake_cdxgen(monkeypatch):
    import baseimages.pipeline.stages.sbom as sbom_stage

    monkeypatch.setattr(sbom_stage, "generate_sbom", lambda rootfs, output, image, platform: {"bomFormat": "x"})


def test_a_push_with_refresh_updates_rebuilds_the_image_with_a_fix_waiting_and_its_children_only(
    family, monkeypatch, tmp_path
):
    import baseimages.pipeline.factory as factory_module

    state = tmp_path / "state" / "updates.json"
    settings = Settings(root=family.root, registry=REGISTRY, namespace="t", updates_state=state)
    catalog = family.load()
    registry = MemoryRegistry()
    plan = make_plan(catalog, settings, now=NOW)
    first = Factory(settings, catalog, engine=FakeEngine(), registry=registry).run(plan, RunOptions(push=True))
    assert first.exit_code == 0
    looks = []

    def look(tools, settings_, catalog_, plan_):
        looks.append(sorted(image.name for image in plan_.images))
        return _found(uv={AMD: (SECURITY,), ARM: (SECURITY,)}, ml={AMD: (), ARM: ()}, solo={AMD: (POINT,), ARM: ()})

    monkeypatch.setattr(factory_module, "look", look)
    options = RunOptions(push=True, refresh=RefreshPolicy("updates"))
    factory = Factory(settings, catalog, engine=FakeEngine(), registry=registry)
    planned = factory.dry_run(plan, options).lines("plan")
    assert any("installable security update: openssl 3.0.11-1 -> 3.0.15-1" in line for line in planned), planned
    assert not state.exists()  # a dry run records nothing

    engine = FakeEngine()
    report = Factory(settings, catalog, engine=engine, registry=registry).run(plan, options)
    status = {image.name: image.status for image in report.images}
    assert status == {"uv": ImageStatus.PROMOTED, "ml": ImageStatus.PROMOTED, "solo": ImageStatus.UNCHANGED}
    assert report.image("uv").reasons[0].startswith("installable security update: openssl")
    assert report.image("solo").reasons[-1] == "no installable security update"
    assert engine.requests["uv"].no_cache and not engine.requests["ml"].no_cache  # ml: a new parent anyway
    assert report.updates is not None and report.updates["schema"] == "baseimages.updates/v1"
    recorded = json.loads(state.read_text())
    assert sorted(recorded["images"]) == ["ml", "solo", "uv"] and "deb:openssl" in recorded["images"]["uv"][AMD]
    assert looks == [["ml", "solo", "uv"]] * 2  # one look each: the dry run, the run
