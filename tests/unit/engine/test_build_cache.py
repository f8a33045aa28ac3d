"""The registry build cache: one ref per platform in the image's repository, read and written only when
pushing with the setting on, never read by a --no-cache rebuild, and shown by --dry-run."""

from __future__ import annotations

import datetime as dt
import shlex

import pytest
from fakes import FakeEngine, MemoryRegistry

from baseimages.catalog.plan import make_plan
from baseimages.engine.build_cache import NO_CACHE, cache_ref, cache_tag, registry_cache
from baseimages.pipeline.factory import Factory
from baseimages.pipeline.options import RunOptions
from baseimages.settings.config import Settings

NOW = dt.datetime(2026, 11, 29, 12, 0, tzinfo=dt.UTC)
REGISTRY = "registry.test:5000"
REPO = f"{REGISTRY}/t/uv"


@pytest.mark.parametrize(
    ("platform", "tag"),
    [
        ("linux/amd64", "buildcache-amd64"),
        ("linux/arm64", "buildcache-arm64"),
        ("linux/arm/v7", "buildcache-arm-v7"),
        ("windows/amd64", "buildcache-windows-amd64"),
    ],
)
def test_each_platform_has_a_cache_tag_of_its_own(platform, tag):
    assert cache_tag(platform) == tag
    assert cache_ref(REPO, platform) == f"{REPO}:{tag}"


def test_an_enabled_cache_reads_and_writes_the_platform_ref_with_every_step_and_ignores_export_errors():
    cache = registry_cache(REPO, "linux/arm64", enabled=True, reuse=True)
    assert cache.cache_from == {"type": "registry", "ref": f"{REPO}:buildcache-arm64"}
    assert cache.cache_to == {
        "type": "registry",
        "ref": f"{REPO}:buildcache-arm64",
        "mode": "max",
        "ignore-error": "true",
    }


def test_a_build_that_must_not_reuse_its_cache_imports_nothing_and_still_exports():
    cache = registry_cache(REPO, "linux/amd64", enabled=True, reuse=False)
    assert cache.cache_from is None
    assert cache.cache_to is not None and cache.cache_to["ref"] == f"{REPO}:buildcache-amd64"


def test_a_disabled_cache_is_no_registry_cache():
    assert registry_cache(REPO, "linux/amd64", enabled=False, reuse=True) == NO_CACHE
    assert (NO_CACHE.cache_from, NO_CACHE.cache_to) == (None, None)


# --------------------------------------------------------------------------- through the factory


@pytest.fixture
def arm64_only(catalog_writer):
    """uv and its child ml, built for linux/arm64 only: one buildx build per platform."""
    catalog_writer.add("uv", platforms=["linux/arm64"])
    catalog_writer.add("ml", parent="uv", platforms=["linux/arm64"])
    return catalog_writer


def _factory(catalog_writer, engine=None, **settings):
    options = Settings(root=catalog_writer.root, registry=REGISTRY, namespace="t", **settings)
    catalog = catalog_writer.load()
    factory = Factory(options, catalog, engine=engine or FakeEngine(), registry=MemoryRegistry())
    return factory, make_plan(catalog, options, now=NOW)


def _flags(argv: list[str], flag: str) -> list[str]:
    return [value for name, value in zip(argv, argv[1:], strict=False) if name == flag]


def test_a_push_builds_each_image_with_its_own_platform_cache_ref(arm64_only):
    engine = FakeEngine()
    factory, plan = _factory(arm64_only, engine)
    factory.run(plan, RunOptions(push=True))
    for name in ("uv", "ml"):
        argv = engine.requests[name].argv()
        ref = f"{REGISTRY}/t/{name}:buildcache-arm64"
        assert _flags(argv, "--cache-from") == [f"type=registry,ref={ref}"]
        assert _flags(argv, "--cache-to") == [f"type=registry,ref={ref},mode=max,ignore-error=true"]


def test_a_build_without_push_and_a_push_with_the_cache_off_touch_no_registry_cache(arm64_only):
    for push, enabled in ((False, True), (True, False)):
        engine = FakeEngine()
        factory, plan = _factory(arm64_only, engine, build_cache=enabled)
        factory.run(plan, RunOptions(push=push))
        request = engine.requests["uv"]
        assert (request.cache_from, request.cache_to) == (None, None)
        assert "--cache-from" not in request.argv() and "--cache-to" not in request.argv()


def test_a_no_cache_rebuild_imports_no_cache(arm64_only):
    engine = FakeEngine()
    factory, plan = _factory(arm64_only, engine)
    factory.run(plan, RunOptions(push=True, no_cache=True))
    argv = engine.requests["uv"].argv()
    assert "--no-cache" in argv and "--cache-from" not in argv
    assert _flags(argv, "--cache-to") == [f"type=registry,ref={REPO}:buildcache-arm64,mode=max,ignore-error=true"]


def test_the_dry_run_shows_the_cache_flags_of_each_build(arm64_only):
    factory, plan = _factory(arm64_only)
    lines = factory.dry_run(plan, RunOptions(push=True)).lines("commands")
    for name in ("uv", "ml"):
        line = next(ln for ln in lines if ln.startswith("docker buildx build") and f"t/{name}:candidate" in ln)
        ref = f"{REGISTRY}/t/{name}:buildcache-arm64"
        assert _flags(shlex.split(line), "--cache-from") == [f"type=registry,ref={ref}"]
        assert _flags(shlex.split(line), "--cache-to") == [f"type=registry,ref={ref},mode=max,ignore-error=true"]


def test_the_cache_is_on_by_default_and_a_library_override_turns_it_off(tmp_path):
    settings = Settings(root=tmp_path)
    assert settings.build_cache is True
    assert settings.with_overrides(build_cache=False).build_cache is False


def test_what_a_cache_ref_holds_is_its_layers_whatever_the_order_and_annotations_of_its_index():
    from baseimages.engine.build_cache import cache_layers

    layer, config = "application/vnd.oci.image.layer.v1.tar+gzip", "application/vnd.buildkit.cacheconfig.v0"
    a, b = {"mediaType": layer, "digest": "sha256:a"}, {"mediaType": layer, "digest": "sha256:b"}
    one = {"manifests": [a, b, {"mediaType": config, "digest": "sha256:c1"}]}
    again = {"manifests": [{**b, "annotations": {"x": "y"}}, a, {"mediaType": config, "digest": "sha256:c2"}]}
    other = {"manifests": [a]}
    assert cache_layers(one) == cache_layers(again) != cache_layers(other)


def test_the_cache_record_annotation_round_trips_per_platform_and_drops_what_does_not_parse():
    from baseimages.engine.build_cache import decode_cache_states, encode_cache_states

    states = {"linux/arm64": "b+2", "linux/amd64": "a+1"}
    assert encode_cache_states(states) == "linux/amd64=a+1;linux/arm64=b+2"
    assert decode_cache_states(encode_cache_states(states)) == states
    assert decode_cache_states("linux/amd64=a+1;junk;=x;linux/arm64=") == {"linux/amd64": "a+1"}
