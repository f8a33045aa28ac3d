"""The registry build cache on the real engine: a push of python311-uv writes one cache ref per platform,
no blob of those refs carries a build secret (the CA bundle or the package index URL), and a cache
registry that does not answer costs a build its cache, not its image (dockerd's BuildKit honours
`ignore-error=true` on the export)."""

from __future__ import annotations

import gzip
import socket
import uuid
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from secret_scan import host_only_needles, marked_ca_bundle

from baseimages import Factory, ImageStatus, RunOptions, RunReport, Settings, load_catalog, make_plan
from baseimages.core.errors import BaseImagesError
from baseimages.core.reference import parse_reference
from baseimages.engine.build_cache import (
    BUILD_CACHE_KEY,
    cache_layers,
    cache_ref,
    decode_cache_states,
    registry_cache,
)
from baseimages.engine.client import BuildRequest, DockerEngine
from baseimages.registry.client import RegistryClient
from baseimages.settings.config import INDEX_URL_ENV

MARKER = f"marker{uuid.uuid4().hex}"
# A working index (PyPI takes and ignores a login) whose URL carries a password only this test knows.
INDEX_URL = f"https://baseimages-test:{MARKER}@pypi.org/simple/"
GZIP_TYPES = ("application/vnd.oci.image.layer.v1.tar+gzip", "application/vnd.docker.image.rootfs.diff.tar.gzip")
PLAIN_TYPES = ("application/vnd.oci.image.layer.v1.tar", "application/vnd.buildkit.cacheconfig.v0")


@pytest.fixture(scope="module")
def cached_push(
    engine: DockerEngine, test_registry: str, tmp_path_factory: pytest.TempPathFactory, catalog_copy, fresh_settings
) -> tuple[Settings, RunReport]:
    """python311-uv pushed with the index URL secret set and its pip step made to run again (a changed
    requirements file), so that both secrets were mounted for a step whose cache is exported. The CA bundle is
    the machine's (if it has one) plus a marker certificate, so that a host-only certificate exists everywhere."""
    project = catalog_copy(tmp_path_factory.mktemp("cache"), ["python311-uv"])
    requirements = project / "images" / "python311-uv" / "requirements.txt"
    requirements.write_text(requirements.read_text() + f"# {uuid.uuid4().hex}\n")
    with pytest.MonkeyPatch.context() as env:
        env.setenv(INDEX_URL_ENV, INDEX_URL)
        detected = fresh_settings(project, test_registry)
        bundle = marked_ca_bundle(tmp_path_factory.mktemp("ca"), detected.ca_bundle)
        settings = replace(detected, ca_bundle=bundle.path)
        assert settings.index_url_env == INDEX_URL_ENV and settings.build_cache
        catalog = load_catalog(settings.catalog_dir, settings.platforms)
        report = Factory(settings, catalog, engine=engine).run(make_plan(catalog, settings), RunOptions(push=True))
    return settings, report


def _cache_blobs(registry: RegistryClient, ref: str) -> list[dict[str, Any]]:
    """The descriptors of every blob a cache ref holds: BuildKit's index of blobs, or an image manifest."""
    manifest = registry.manifest(parse_reference(ref))
    assert manifest is not None, f"no cache at {ref}"
    doc = manifest.doc
    return list(doc["manifests"]) if manifest.is_index else [doc["config"], *doc["layers"]]


def _content(registry: RegistryClient, ref: str, blob: dict[str, Any]) -> bytes:
    data = registry.blob(parse_reference(ref), blob["digest"], blob.get("size"))
    media_type = blob["mediaType"]
    assert media_type in GZIP_TYPES + PLAIN_TYPES, f"{ref}: a blob of {media_type} cannot be read here"
    return gzip.decompress(data) if media_type in GZIP_TYPES else data


def test_a_push_writes_one_cache_ref_per_platform_that_carries_no_build_secret(
    cached_push, engine: DockerEngine, registry_client: RegistryClient
) -> None:
    settings, report = cached_push
    result = report.image("python311-uv")
    assert result.status is ImageStatus.PROMOTED, result.error
    assert settings.ca_bundle is not None
    needles = host_only_needles(engine, f"{result.repository}@{result.digest}", settings.ca_bundle)
    assert needles, "the marker certificate of the bundle is missing: nothing to look for"
    secrets = [MARKER.encode(), INDEX_URL.encode(), *(n.encode() for n in needles)]
    layers = 0
    for platform in [p.platform for p in result.platforms]:
        ref = cache_ref(result.repository, platform)
        for blob in _cache_blobs(registry_client, ref):
            content = _content(registry_client, ref, blob)
            layers += blob["mediaType"] != PLAIN_TYPES[1]
            leaked = [secret.decode()[:24] for secret in secrets if secret in content]
            assert not leaked, f"{ref}: blob {blob['digest']} carries {leaked}"
    assert layers >= 2 * len(result.platforms), "the cache refs hold too few layers to have been read"


def test_without_the_build_cache_a_push_writes_no_cache_ref(
    cached_push, engine: DockerEngine, registry_client: RegistryClient
) -> None:
    settings, _ = cached_push
    off = replace(settings, namespace=f"{settings.namespace}-off", build_cache=False, index_url_env=None)
    catalog = load_catalog(off.catalog_dir, off.platforms)
    report = Factory(off, catalog, engine=engine).run(make_plan(catalog, off), RunOptions(push=True))
    result = report.image("python311-uv")
    assert result.status is ImageStatus.PROMOTED, result.error
    tags = registry_client.tags(parse_reference(result.repository))
    assert "latest" in tags and not [tag for tag in tags if tag.startswith("buildcache")]


def test_a_forced_rebuild_from_the_cache_its_published_build_exported_settles_without_exporting(
    cached_push, engine: DockerEngine, registry_client: RegistryClient
) -> None:
    settings, first = cached_push
    published = first.image("python311-uv")
    assert published.status is ImageStatus.PROMOTED, published.error
    summary = registry_client.summary(parse_reference(f"{published.repository}@{published.digest}"))
    assert summary is not None
    recorded = decode_cache_states(summary[1][BUILD_CACHE_KEY])
    for platform in [p.platform for p in published.platforms]:
        cache = registry_client.manifest(parse_reference(cache_ref(published.repository, platform)))
        assert cache is not None and recorded[platform].partition("+")[0] == cache_layers(cache.doc)
    catalog = load_catalog(settings.catalog_dir, settings.platforms)
    forced = RunOptions(push=True, force=True)
    plan = make_plan(catalog, settings, now=first.started)  # the published build's date (a run may cross midnight)
    report = Factory(settings, catalog, engine=engine).run(plan, forced)
    again = report.image("python311-uv")
    assert again.status is ImageStatus.UNCHANGED, again.error
    assert again.digest == published.digest
    assert again.reasons[-1].startswith("every step in the registry cache its published build exported"), again.reasons
    assert "build" not in again.seconds and "reuse" in again.seconds


def _tiny_build(tmp_path: Path, cache_to: dict[str, str] | None, cache_from: dict[str, str] | None) -> BuildRequest:
    context = tmp_path / "context"
    context.mkdir(exist_ok=True)
    (context / "hello").write_text(uuid.uuid4().hex)  # a step that runs, and a cache worth exporting
    (context / "Dockerfile").write_text("FROM scratch\nCOPY hello /hello\n")
    return BuildRequest(
        context=context,
        dockerfile=context / "Dockerfile",
        platforms=["linux/amd64"],
        output={"type": "oci", "dest": str(tmp_path / "out.oci.tar")},
        cache_from=cache_from,
        cache_to=cache_to,
    )


def test_an_unreachable_cache_registry_fails_no_build_with_ignore_error_and_would_fail_it_without(
    engine: DockerEngine, tmp_path: Path
) -> None:
    dead = {"type": "registry", "ref": f"127.0.0.1:{_closed_port()}/nowhere/tiny:buildcache-amd64"}
    tolerant = registry_cache("unused", "linux/amd64", enabled=True, reuse=True)
    assert tolerant.cache_to is not None and tolerant.cache_to["ignore-error"] == "true"
    built = engine.build(_tiny_build(tmp_path, {**dead, "mode": "max", "ignore-error": "true"}, dead), "tiny")
    assert built.startswith("sha256:") and (tmp_path / "out.oci.tar").is_file()
    with pytest.raises(BaseImagesError) as info:
        engine.build(_tiny_build(tmp_path, {**dead, "mode": "max"}, None), "tiny")
    assert "127.0.0.1" in str(info.value) or "connection refused" in str(info.value).lower()


def _closed_port() -> int:
    """A local TCP port nothing listens on (bound, then closed)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
