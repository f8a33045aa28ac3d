"""stages.sizes (CompareSizes): the previous build's sizes are what `latest` named before the run, read
right before promotion; a registry that cannot tell them fails nothing. And the scheduler's per-platform
intervals, which the timeline draws."""

from __future__ import annotations

import pytest
from report_family import REGISTRY, GrowingRegistry, TimedEngine, run_family, write_family

from baseimages.core.errors import RegistryError
from baseimages.core.events import Phase
from baseimages.core.results import ImageStatus


@pytest.fixture
def family(catalog_writer):
    return write_family(catalog_writer)


def test_a_rebuild_records_each_platforms_previous_size_from_what_latest_named(family):
    registry = GrowingRegistry()
    first = run_family(family, registry=registry)
    second = run_family(family, registry=registry, force=True)
    for name in ("uv", "ml", "security"):
        image = second.image(name)
        assert image.previous_digest == first.image(name).digest != image.digest
        sizes = {p.platform: (p.previous_bytes, p.compressed_bytes) for p in image.platforms}
        assert sizes == {"linux/amd64": (52_000_000, 54_000_000), "linux/arm64": (51_000_000, 52_000_000)}
    assert second.image("uv").to_dict()["previous_digest"] == first.image("uv").digest
    assert second.image("uv").to_dict()["platforms"][0]["previous_bytes"] == 52_000_000


def test_a_first_build_has_no_previous_sizes(family):
    report = run_family(family)
    assert report.image("uv").previous_digest is None
    assert {p.previous_bytes for p in report.image("uv").platforms} == {None}
    assert "sizes" in report.image("uv").seconds


class _LatestUnreadable(GrowingRegistry):
    """uv's `latest` cannot be read once a second build of uv is uploaded (what the sizes stage reads; the
    change detection, before the upload, reads it)."""

    def digest(self, ref):
        if ref.tag == "latest" and ref.path.endswith("/uv") and self.uploads.get(ref.repository, 0) >= 2:
            raise RegistryError(f"{REGISTRY}: HTTP 403 Forbidden")
        return super().digest(ref)


def test_previous_sizes_the_registry_cannot_tell_stay_unknown_and_the_image_still_promotes(family):
    registry = _LatestUnreadable()
    run_family(family, registry=registry)
    events = []
    report = run_family(family, registry=registry, force=True, on_event=events.append)
    uv = report.image("uv")
    assert uv.status is ImageStatus.PROMOTED and uv.previous_digest is None
    notes = [e.detail for e in events if e.image == "uv" and e.phase is Phase.COMPARING_SIZES]
    assert any("previous sizes not read" in note and "403" in note for note in notes)
    assert report.image("ml").previous_digest is not None


def test_dry_run_describes_the_read_of_the_previous_index(family):
    from baseimages.catalog.plan import make_plan
    from baseimages.pipeline.factory import Factory
    from baseimages.pipeline.options import RunOptions
    from baseimages.settings.config import Settings

    settings = Settings(root=family.root, registry=REGISTRY, namespace="t")
    catalog = family.load()
    lines = Factory(settings, catalog, engine=TimedEngine(), registry=GrowingRegistry()).dry_run(
        make_plan(catalog, settings), RunOptions(push=True)
    )
    assert f"# read the index at {REGISTRY}/t/uv:latest (registry API): the previous sizes" in lines.lines("commands")


def test_each_platforms_smoke_interval_is_its_own_and_within_the_images(family):
    report = run_family(family, engine=TimedEngine(run_seconds=0.05))
    for image in report.images:
        start, end = image.timeline["smoke"]
        for platform in image.platforms:
            own_start, own_end = image.platform_timeline[platform.platform]["smoke"]
            assert start <= own_start < own_end <= end
            assert own_end - own_start >= 0.045  # one run of 0.05 s, times rounded to ms
