"""The reuse stage: a rebuild of published inputs settles without exporting when the registry cache is the
one the published build exported and BuildKit finds every step in it; otherwise it builds."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

import pytest
from fakes import FakeEngine, MemoryRegistry

from baseimages.catalog.plan import make_plan
from baseimages.core.errors import BuildError
from baseimages.core.results import ImageStatus
from baseimages.engine.build_cache import BUILD_CACHE_KEY, cache_layers, decode_cache_states
from baseimages.engine.client import BuildRequest
from baseimages.pipeline.factory import Factory
from baseimages.pipeline.options import RunOptions
from baseimages.settings.config import Settings

NOW = dt.datetime(2026, 11, 29, 12, 0, tzinfo=dt.UTC)
REGISTRY = "registry.example.com"
LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"


@pytest.fixture
def family(catalog_writer):
    """uv FROM python:3.11-slim; ml and security FROM uv."""
    catalog_writer.add("uv")
    catalog_writer.add("ml", parent="uv")
    catalog_writer.add("security", parent="uv")
    return catalog_writer


@dataclass
class CachingEngine(FakeEngine):
    """Reproducible builds that write their registry cache anew (new layers each time) into REGISTRY, and
    cache probes that find every step cached, except on the platforms in MISSES."""

    registry: MemoryRegistry = field(default_factory=MemoryRegistry)
    misses: set[str] = field(default_factory=set)
    writes_cache: bool = True  # False: a cache export that failed (ignore-error) or wrote the same layers
    probe_fails: bool = False
    probes: list[tuple[str, str]] = field(default_factory=list)  # (image, platform)

    def __post_init__(self) -> None:
        self.reproducible = True

    def build(self, request: BuildRequest, image: str, on_line: Any = None) -> str:
        digest = super().build(request, image, on_line)
        if request.cache_to and self.writes_cache:
            self.registry.caches[request.cache_to["ref"].split("/", 1)[1]] = _cache_index()
        return digest

    def build_files(self, request: BuildRequest, image: str, on_line: Any = None) -> None:
        if request.output.get("type") != "cacheonly" or "baseimages-parent" in request.build_contexts:
            return super().build_files(request, image, on_line)
        assert request.cache_to is None and request.metadata_file is None  # a probe writes nothing
        [platform] = request.platforms
        self.probes.append((image.split(" ")[0], platform))
        if self.probe_fails:
            raise BuildError(image, "docker buildx build failed (exit 1): ERROR: boom")
        for line in ["#5 [stage-1 1/3] FROM docker.io/library/python:3.11-slim", "#5 DONE 0.0s"]:
            on_line(line)
        for step in (6, 7):
            on_line(f"#{step} [stage-1 {step - 4}/3] RUN make {step}")
            on_line(f"#{step} DONE 1.0s" if platform in self.misses and step == 7 else f"#{step} CACHED")
        return None


def _cache_index() -> dict[str, Any]:
    layers = [{"mediaType": LAYER, "digest": f"sha256:{uuid.uuid4().hex * 2}"} for _ in range(2)]
    return {"manifests": [*layers, {"mediaType": "application/vnd.buildkit.cacheconfig.v0", "digest": "sha256:c"}]}


def _push(family, engine: CachingEngine, now: dt.datetime = NOW, level: int = 1, **options: Any):
    settings = Settings(root=family.root, registry=REGISTRY, namespace="t", layer_compression_level=level)
    catalog = family.load()
    factory = Factory(settings, catalog, engine=engine, registry=engine.registry)
    return factory.run(make_plan(catalog, settings, now=now), RunOptions(push=True, **options))


def _published(family) -> tuple[CachingEngine, Any]:
    engine = CachingEngine()
    first = _push(family, engine)
    assert first.exit_code == 0, [i.error for i in first.images]
    return engine, first


def test_a_pushed_index_records_each_platforms_registry_cache_its_build_wrote(family):
    engine, first = _published(family)
    uv = first.image("uv")
    recorded = decode_cache_states(engine.registry.annotations[uv.digest][BUILD_CACHE_KEY])
    assert set(recorded) == {"linux/amd64", "linux/arm64"}
    cache, _, recipe = recorded["linux/amd64"].partition("+")
    assert cache == cache_layers(engine.registry.caches["t/uv:buildcache-amd64"])
    assert recipe == engine.by_platform[("uv", "linux/amd64")].recipe()


def test_a_build_whose_cache_ref_did_not_change_records_nothing_a_record_is_never_a_guess(family):
    engine = CachingEngine(writes_cache=False)
    for name in ("uv", "ml", "security"):
        for arch in ("amd64", "arm64"):
            engine.registry.caches[f"t/{name}:buildcache-{arch}"] = _cache_index()  # an older build's
    first = _push(family, engine)
    assert first.exit_code == 0
    assert all(BUILD_CACHE_KEY not in engine.registry.annotations[i.digest] for i in first.images)
    second = _push(family, engine, force=True)
    assert engine.probes == [] and all("build" in image.seconds for image in second.images)


def test_a_forced_rebuild_from_the_published_builds_cache_settles_without_building(family):
    engine, first = _published(family)
    built = len(engine.builds)
    second = _push(family, engine, force=True)
    assert second.exit_code == 0
    for image in second.images:
        assert image.status is ImageStatus.UNCHANGED, (image.name, image.error)
        assert image.digest == first.image(image.name).digest
        assert image.reasons[-1].startswith("every step in the registry cache its published build exported")
        assert "build" not in image.seconds and "reuse" in image.seconds
    assert len(engine.builds) == built  # not one image build: only probes
    platforms = ("linux/amd64", "linux/arm64")
    assert sorted(engine.probes) == sorted((n, p) for n in ("uv", "ml", "security") for p in platforms)


def test_a_registry_cache_written_since_the_published_build_is_no_proof_and_the_image_builds(family):
    engine, first = _published(family)
    engine.registry.caches["t/uv:buildcache-arm64"] = _cache_index()  # another build exported since
    second = _push(family, engine, force=True)
    uv = second.image("uv")
    assert "build" in uv.seconds and not any(n == "uv" for n, _ in engine.probes)
    assert uv.reasons[-1].startswith("rebuilt byte for byte")  # the build itself found it published


def test_a_build_that_would_export_another_image_builds_another_day_or_another_compression(family):
    engine, _ = _published(family)
    next_day = _push(family, engine, now=NOW + dt.timedelta(days=1), force=True)
    assert engine.probes == [] and all("build" in image.seconds for image in next_day.images)
    engine, _ = _published(family)
    other_level = _push(family, engine, level=6, force=True)
    assert engine.probes == [] and all("build" in image.seconds for image in other_level.images)


def test_a_step_the_cache_lacks_on_one_platform_makes_the_image_build(family):
    engine, _ = _published(family)
    engine.misses = {"linux/arm64"}
    second = _push(family, engine, force=True)
    assert all("build" in image.seconds for image in second.images)
    assert second.exit_code == 0


def test_a_probe_that_fails_is_no_error_the_image_builds(family):
    engine, _ = _published(family)
    engine.probe_fails = True
    second = _push(family, engine, force=True)
    assert second.exit_code == 0 and all("build" in image.seconds for image in second.images)


def test_no_cache_and_fresh_builds_never_ask_the_cache(family):
    engine, _ = _published(family)
    second = _push(family, engine, force=True, no_cache=True)
    assert engine.probes == [] and all("build" in image.seconds for image in second.images)


def test_the_dry_run_of_a_forced_rebuild_shows_each_platforms_cache_probe(family):
    engine, _ = _published(family)
    settings = Settings(root=family.root, registry=REGISTRY, namespace="t")
    catalog = family.load()
    factory = Factory(settings, catalog, engine=engine, registry=engine.registry)
    lines = factory.dry_run(make_plan(catalog, settings, now=NOW), RunOptions(push=True, force=True)).lines("commands")
    probes = [line for line in lines if "type=cacheonly" in line and "baseimages-parent=oci-layout" not in line]
    assert len(probes) == 6 and not any("--cache-to" in line for line in probes)
    assert engine.probes == []  # a dry run asks nothing of the engine
