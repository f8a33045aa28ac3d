"""The cache warm-up: a child's build of a platform runs FROM its parent's output of that platform while the
parent's other platforms still build (exporting nothing); its own build of that platform waits for it."""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from typing import Any

import pytest
from fakes import FakeEngine, MemoryRegistry

from baseimages.catalog.plan import make_plan
from baseimages.core.errors import BuildError
from baseimages.core.results import ImageStatus
from baseimages.engine.client import BuildRequest
from baseimages.pipeline.actions import CacheWarm
from baseimages.pipeline.factory import Factory
from baseimages.pipeline.options import RunOptions
from baseimages.pipeline.stages.warm import redeclares_base
from baseimages.settings.config import Settings

NOW = dt.datetime(2026, 11, 29, 12, 0, tzinfo=dt.UTC)
REGISTRY = "registry.test:5000"
SLOW_ARM = {"linux/arm64": 0.4}  # the parent's arm64 build ends well after its amd64 one


@dataclass
class TimedEngine(FakeEngine):
    """A fake engine that records when each build of (image, platform) starts and when each ends."""

    started: dict[tuple[str, str], float] = field(default_factory=dict)
    ended: dict[tuple[str, str], float] = field(default_factory=dict)

    def build(self, request: BuildRequest, image: str, on_line: Any = None) -> str:
        key = (image.split(" ")[0], request.platforms[0])
        self.started[key] = time.monotonic()
        try:
            return super().build(request, image, on_line)
        finally:
            self.ended[key] = time.monotonic()

    def _warm_up(self, request: BuildRequest, image: str) -> None:
        key = (image.split(" ")[0], "warm " + request.platforms[0])
        self.started[key] = time.monotonic()
        try:
            super()._warm_up(request, image)
        finally:
            self.ended[key] = time.monotonic()


@pytest.fixture(autouse=True)
def short_grace(monkeypatch):
    """A warm-up starts 50 ms after its parent's offer (unless the candidate came first), not 3 s."""
    import baseimages.pipeline.permits as permits

    monkeypatch.setattr(permits, "WARM_GRACE", 0.05)


@pytest.fixture
def family(catalog_writer):
    catalog_writer.add("uv")
    catalog_writer.add("ml", parent="uv")
    return catalog_writer


def _run(family, engine: FakeEngine, jobs: int = 2, push: bool = True, **options: Any):
    settings = Settings(root=family.root, registry=REGISTRY, namespace="t", jobs=jobs)
    catalog = family.load()
    factory = Factory(settings, catalog, engine=engine, registry=MemoryRegistry())
    return factory.run(make_plan(catalog, settings, now=NOW), RunOptions(push=push, **options))


def test_a_child_warms_a_platform_from_its_parents_output_while_the_parents_other_platform_builds(family):
    engine = TimedEngine(platform_seconds=SLOW_ARM)
    report = _run(family, engine)
    assert report.exit_code == 0, [i.error for i in report.images]
    assert engine.warmups == [("ml", "linux/amd64")]  # arm64 ended last: the candidate came right after
    assert engine.started[("ml", "warm linux/amd64")] < engine.ended[("uv", "linux/arm64")]
    ml = report.image("ml")
    assert ml.timeline["warm"][0] < report.image("uv").timeline["build"][1]
    assert ml.platform_timeline["linux/amd64"]["warm"]


def test_the_childs_build_of_a_warmed_platform_starts_once_its_warm_up_is_over(family):
    engine = TimedEngine(platform_seconds=SLOW_ARM, warm_seconds=0.8)
    report = _run(family, engine)
    assert report.exit_code == 0
    assert engine.started[("ml", "linux/amd64")] >= engine.ended[("ml", "warm linux/amd64")]
    # the other platform, never warmed, builds as soon as the parent's candidate exists
    assert engine.started[("ml", "linux/arm64")] < engine.ended[("ml", "warm linux/amd64")]


def test_in_a_build_run_too_the_child_warms_while_the_parent_builds(family):
    engine = TimedEngine(platform_seconds=SLOW_ARM)
    report = _run(family, engine, push=False)
    assert report.exit_code == 0
    assert engine.warmups == [("ml", "linux/amd64")]


def test_no_warm_up_when_the_parents_candidate_follows_its_platforms_output_within_the_grace(family, monkeypatch):
    import baseimages.pipeline.permits as permits

    monkeypatch.setattr(permits, "WARM_GRACE", 2.0)  # longer than the parent's arm64 build is still to take
    engine = TimedEngine(platform_seconds=SLOW_ARM)
    report = _run(family, engine)
    assert report.exit_code == 0
    assert engine.warmups == [] and "warm" not in report.image("ml").timeline
    assert engine.started[("ml", "linux/amd64")] < engine.ended[("uv", "linux/arm64")] + 1.0  # not held back


def test_no_warm_up_takes_a_permit_that_is_not_free(family):
    engine = TimedEngine(platform_seconds=SLOW_ARM)
    report = _run(family, engine, jobs=1)
    assert report.exit_code == 0
    assert engine.warmups == []


@pytest.mark.parametrize("options", [{"no_cache": True}], ids=["no-cache"])
def test_no_warm_up_when_every_step_runs_again_anyway(family, options):
    engine = TimedEngine(platform_seconds=SLOW_ARM)
    report = _run(family, engine, force=True, **options)
    assert report.exit_code == 0
    assert engine.warmups == []


def test_no_warm_up_for_a_dockerfile_that_declares_base_image_inside_its_stage(family):
    (family.images_dir / "ml" / "Dockerfile").write_text("ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\nARG BASE_IMAGE\n")
    engine = TimedEngine(platform_seconds=SLOW_ARM)
    report = _run(family, engine)
    assert report.exit_code == 0
    assert engine.warmups == []


def test_a_failed_warm_up_changes_nothing_the_child_builds_and_promotes(family):
    engine = TimedEngine(platform_seconds=SLOW_ARM, fail_warm={"ml"})
    report = _run(family, engine)
    assert report.exit_code == 0
    assert report.image("ml").status is ImageStatus.PROMOTED
    assert ("ml", "linux/amd64") in engine.started


@pytest.fixture
def made_permits(monkeypatch) -> list[Any]:
    """The run's Permits, kept to count what is free at the end."""
    import baseimages.pipeline.scheduler as scheduler

    made: list[scheduler.Permits] = []

    class Counted(scheduler.Permits):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            made.append(self)

    monkeypatch.setattr(scheduler, "Permits", Counted)
    return made


def test_the_warm_ups_permit_is_the_childs_for_its_build_and_comes_back_once(family, made_permits):
    engine = TimedEngine(platform_seconds=SLOW_ARM)
    report = _run(family, engine, jobs=2)
    assert report.exit_code == 0 and engine.warmups == [("ml", "linux/amd64")]
    [permits] = made_permits
    assert permits._free == 2


def test_a_child_blocked_by_its_parent_after_its_warm_up_gives_the_permit_back(catalog_writer, made_permits):
    catalog_writer.add("uv")
    catalog_writer.add("ml", parent="uv")
    engine = TimedEngine(platform_seconds=SLOW_ARM, warm_seconds=0.1)
    original = engine.build

    def build(request: BuildRequest, image: str, on_line: Any = None) -> str:
        digest = original(request, image, on_line)
        if image.startswith("uv ") and request.platforms[0] == "linux/arm64":
            raise BuildError(image, "docker buildx build failed (exit 1): ERROR: boom")
        return digest

    engine.build = build  # type: ignore[method-assign]
    report = _run(catalog_writer, engine, jobs=2)
    assert engine.warmups == [("ml", "linux/amd64")]
    assert report.image("ml").status is ImageStatus.BLOCKED
    [permits] = made_permits
    assert permits._free == 2  # every permit back, the warm-up's too


def test_a_dry_run_shows_the_childs_warm_up_of_each_platform_from_its_parents_output(family):
    settings = Settings(root=family.root, registry=REGISTRY, namespace="t")
    catalog = family.load()
    factory = Factory(settings, catalog, engine=FakeEngine(), registry=MemoryRegistry())
    plan = factory.dry_run(make_plan(catalog, settings, now=NOW), RunOptions(push=True))
    [warm] = [stage for stage in plan.image("ml").stages if stage.stage == "warm"]
    actions = [action for action in warm.actions if isinstance(action, CacheWarm)]
    assert [a.platform for a in actions] == ["linux/amd64", "linux/arm64"]
    for action in actions:
        assert action.request.output == {"type": "cacheonly"} and action.request.cache_to is None
        assert action.request.build_args["BASE_IMAGE"] == "baseimages-parent"
        assert action.request.build_contexts["baseimages-parent"].startswith("oci-layout://")
    assert all(stage.stage != "warm" for stage in plan.image("uv").stages)  # its parent is external


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\nRUN true\n", False),
        ("ARG BASE_IMAGE=x\nFROM ${BASE_IMAGE} AS a\nARG BASE_IMAGE\n", True),
        ("ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\nARG OTHER BASE_IMAGE=y\n", True),
        ("FROM scratch AS w\nARG BASE_IMAGES\nFROM ${BASE_IMAGE}\n", False),
    ],
    ids=["global only", "in a stage", "among others", "another name"],
)
def test_a_dockerfile_redeclares_base_image_only_with_an_arg_of_that_name_inside_a_stage(tmp_path, text, expected):
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(text)
    assert redeclares_base(dockerfile) is expected


def test_an_unreadable_dockerfile_counts_as_redeclaring_no_warm_up_guesses(tmp_path):
    assert redeclares_base(tmp_path / "missing") is True
