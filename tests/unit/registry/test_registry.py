"""RegistryClient's reads and tag moves against the in-process fake registry, and the garbage battery:
every answer that is not what the distribution API promises ends in a one-line, permanent RegistryError
(never a ValueError, KeyError, JSONDecodeError or http.client exception), and moves no tag."""

from __future__ import annotations

import json

import pytest
from fake_registry import GARBAGE_MODES, INDEX_TYPE, MANIFEST_TYPE, FakeRegistry, make_image, sha256

import baseimages.registry.client as registry_module
from baseimages.core.errors import RegistryError
from baseimages.core.reference import Reference


@pytest.fixture
def tiny(fake_registry):
    """team/tiny:1.0.0 in the fake registry: two platforms and an attestation, annotated."""
    image = make_image(annotations={"org.example.fingerprint": "abc"}, attestation=True)
    fake_registry.preload("team/tiny", image, tag="1.0.0")
    return image


def test_public_names_stay_importable_from_baseimages_registry():
    for name in ("RegistryClient", "ImageIndex", "PlatformManifest", "UploadResult", "Response", "is_local"):
        assert hasattr(registry_module, name), name
    assert registry_module.INDEX_TYPES[0] == INDEX_TYPE and registry_module.MANIFEST_TYPES[0] == MANIFEST_TYPE
    assert not hasattr(registry_module.RegistryClient, "ping")


# ---------------------------------------------------------------------- reads


def test_digest_of_a_tag_costs_one_head(fake_registry, tiny, make_client):
    assert make_client().digest(fake_registry.ref("team/tiny:1.0.0")) == tiny.digest
    assert [(r.method, r.reference) for r in fake_registry.requests] == [("HEAD", "1.0.0")]


def test_digest_of_a_missing_tag_or_repository_is_none(fake_registry, tiny, make_client):
    client = make_client()
    assert client.digest(fake_registry.ref("team/tiny:9.9.9")) is None
    assert client.digest(fake_registry.ref("team/nothing:1.0.0")) is None


def test_digest_falls_back_to_a_checked_get_when_head_has_no_digest_header(fake_registry, tiny, make_client):
    fake_registry.fault("truncated-json", times=1, methods=["HEAD"])  # a HEAD answer without the header
    assert make_client().digest(fake_registry.ref("team/tiny:1.0.0")) == tiny.digest
    assert [r.method for r in fake_registry.requests] == ["HEAD", "GET"]


def test_summary_reads_digest_and_annotations_in_one_get(fake_registry, tiny, make_client):
    summary = make_client().summary(fake_registry.ref("team/tiny:1.0.0"))
    assert summary == (tiny.digest, {"org.example.fingerprint": "abc"})
    assert fake_registry.count() == 1


def test_summary_of_a_missing_tag_is_none(fake_registry, make_client):
    assert make_client().summary(fake_registry.ref("team/tiny:1.0.0")) is None


def test_index_lists_each_platform_with_its_compressed_size_and_skips_attestations(fake_registry, tiny, make_client):
    index = make_client().index(fake_registry.ref("team/tiny:1.0.0"))
    assert index.digest == tiny.digest and index.platforms == ("linux/amd64", "linux/arm64")
    amd64 = index.for_platform("linux/amd64")
    assert amd64 is not None and amd64.digest == tiny.manifest_for("linux/amd64")
    manifest = json.loads(tiny.manifests[amd64.digest])
    assert amd64.config_digest == manifest["config"]["digest"]
    assert amd64.compressed_size == manifest["config"]["size"] + manifest["layers"][0]["size"]
    assert index.for_platform("linux/s390x") is None


def test_index_of_a_single_manifest_reads_its_platform_from_the_config(fake_registry, tiny, make_client):
    digest = tiny.manifest_for("linux/arm64")
    index = make_client().index(fake_registry.ref(f"team/tiny@{digest}"))
    assert index.platforms == ("linux/arm64",) and index.digest == digest


def test_index_of_a_missing_reference_is_a_not_found_error(fake_registry, make_client):
    with pytest.raises(RegistryError, match="not found in the registry"):
        make_client().index(fake_registry.ref("team/tiny:1.0.0"))


def test_index_whose_entry_is_an_index_is_refused(fake_registry, tiny, make_client):
    nested = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": INDEX_TYPE,
            "manifests": [
                {
                    "mediaType": INDEX_TYPE,
                    "digest": tiny.digest,
                    "size": len(tiny.index),
                    "platform": {"os": "linux", "architecture": "amd64"},
                }
            ],
        }
    ).encode()
    fake_registry.add_manifest("team/tiny", nested, INDEX_TYPE, tag="nested")
    with pytest.raises(RegistryError, match="is an index, expected an image manifest"):
        make_client().index(fake_registry.ref("team/tiny:nested"))


def test_index_entry_whose_manifest_has_another_size_is_refused(fake_registry, tiny, make_client):
    doc = json.loads(tiny.index)
    doc["manifests"][0]["size"] += 1
    fake_registry.add_manifest("team/tiny", json.dumps(doc).encode(), INDEX_TYPE, tag="bad-size")
    with pytest.raises(RegistryError, match="where the index lists a manifest of"):
        make_client().index(fake_registry.ref("team/tiny:bad-size"))


def test_config_without_os_is_refused_when_indexing_a_single_manifest(fake_registry, make_client):
    config = b'{"architecture": "amd64"}'
    config_digest = fake_registry.add_blob("team/tiny", config)
    manifest = {
        "schemaVersion": 2,
        "mediaType": MANIFEST_TYPE,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest, "size": 25},
        "layers": [],
    }
    fake_registry.add_manifest("team/tiny", json.dumps(manifest).encode(), MANIFEST_TYPE, tag="1.0.0")
    with pytest.raises(RegistryError, match="the image config .* has no 'os'"):
        make_client().index(fake_registry.ref("team/tiny:1.0.0"))


def test_blob_json_reads_a_config_checked_against_its_digest(fake_registry, tiny, make_client):
    index = make_client().index(fake_registry.ref("team/tiny:1.0.0"))
    config_digest = index.manifests[0].config_digest
    config = make_client().blob_json(fake_registry.ref("team/tiny"), config_digest)
    assert (config["os"], config["architecture"]) == ("linux", "amd64")


def test_blob_reads_any_blob_as_bytes_checked_against_its_digest(fake_registry, make_client):
    layer = bytes(range(256)) * 4  # not JSON, not UTF-8
    digest = fake_registry.add_blob("team/tiny", layer)
    assert make_client().blob(fake_registry.ref("team/tiny"), digest, size=len(layer)) == layer
    with pytest.raises(RegistryError, match="not found"):
        make_client().blob(fake_registry.ref("team/tiny"), sha256(b"nothing"))


def test_blob_reads_a_layer_larger_than_any_document_when_its_size_is_given(fake_registry, make_client, monkeypatch):
    monkeypatch.setattr("baseimages.registry.http.MAX_BODY", 1000)  # documents: at most 1000 bytes here
    layer = b"x" * 5000
    digest = fake_registry.add_blob("team/tiny", layer)
    assert make_client().blob(fake_registry.ref("team/tiny"), digest, size=len(layer)) == layer
    with pytest.raises(RegistryError, match="answered more than 1000 bytes"):  # no size: a document's limit
        make_client().blob(fake_registry.ref("team/tiny"), digest)


def test_blob_json_of_a_missing_blob_is_not_found(fake_registry, make_client):
    with pytest.raises(RegistryError, match="not found"):
        make_client().blob_json(fake_registry.ref("team/tiny"), sha256(b"nothing"))


def test_docker_hub_reads_go_to_the_mirrors_first_passing_over_one_that_answers_garbage(make_client, tiny):
    with FakeRegistry() as broken, FakeRegistry() as good:
        good.preload("library/python", tiny, tag="3.11-slim")
        broken.fault("html")
        client = make_client(mirrors=(broken.url, good.url))
        ref = Reference("docker.io", "library/python", "3.11-slim")
        assert client.summary(ref) == (tiny.digest, {"org.example.fingerprint": "abc"})
        assert broken.count() == 1 and good.count() == 1


# ---------------------------------------------------------------------- tag moves


def test_copy_tags_puts_the_same_bytes_once_per_tag(fake_registry, tiny, make_client):
    make_client().copy_tags(fake_registry.ref(f"team/tiny@{tiny.digest}"), ["1.0", "1", "latest"])
    for tag in ("1.0.0", "1.0", "1", "latest"):
        assert fake_registry.tag_digest("team/tiny", tag) == tiny.digest
    puts = fake_registry.tag_puts()
    assert [p.reference for p in puts] == ["1.0", "1", "latest"]
    assert all(p.body == tiny.index and p.headers["content-type"] == INDEX_TYPE for p in puts)


def test_copy_tags_of_a_missing_digest_moves_nothing(fake_registry, make_client):
    with pytest.raises(RegistryError, match="not found"):
        make_client().copy_tags(fake_registry.ref(f"team/tiny@{sha256(b'x')}"), ["latest"])
    assert fake_registry.manifest_puts() == []


def test_copy_tags_retries_a_put_the_registry_drops(fake_registry, tiny, make_client, retries):
    fake_registry.fault("503", times=1, methods=["PUT"])
    make_client().copy_tags(fake_registry.ref(f"team/tiny@{tiny.digest}"), ["latest"])
    assert fake_registry.tag_digest("team/tiny", "latest") == tiny.digest and len(retries) == 1


def test_put_manifest_returns_its_digest(fake_registry, tiny, make_client):
    client = make_client()
    digest = client.put_manifest(fake_registry.ref("team/tiny:again"), INDEX_TYPE, tiny.index)
    assert digest == tiny.digest == fake_registry.tag_digest("team/tiny", "again")


# ---------------------------------------------------------------------- the garbage battery

# Which garbage each read can see. A HEAD has no body to check; a read by tag has no digest to check
# the body against (only its Docker-Content-Digest header), so `wrong-body` is caught by digest only.
BY_TAG = [m for m in GARBAGE_MODES if m != "wrong-body"]
BLOB_GARBAGE = [m for m in GARBAGE_MODES if m != "wrong-content-type"]  # a blob's Content-Type says nothing
WHAT_WAS_WRONG = {  # what the message says, one of
    "html": ("HTML page", "text/html"),
    "truncated-json": ("invalid JSON",),
    "wrong-content-type": ("text/plain",),
    "redirect-loop": ("redirects in a loop",),
    "huge-header": ("header line too long",),
    "wrong-digest-header": ("Docker-Content-Digest",),
    "wrong-body": ("it was asked by",),
    "missing-fields": ("has no",),
    "wrong-types": ("of type",),
}


def _assert_one_line_permanent(info, fake, retries, mode, blob=False):
    error = info.value
    message = str(error)
    assert type(error) is RegistryError and error.exit_code == 3
    assert not error.transient and retries == [], f"{mode}: garbage never heals, so it is not retried"
    assert "\n" not in message and fake.address in message, message
    if blob and mode not in ("html", "redirect-loop", "huge-header"):  # a blob is checked by its digest first
        assert "digest" in message.lower(), f"{mode}: {message}"
    else:
        assert any(words in message for words in WHAT_WAS_WRONG[mode]), f"{mode}: {message}"


@pytest.mark.parametrize("mode", BY_TAG)
def test_garbage_answer_to_summary_is_a_permanent_registry_error(fake_registry, tiny, make_client, retries, mode):
    fake_registry.fault(mode)
    with pytest.raises(RegistryError) as info:
        make_client().summary(fake_registry.ref("team/tiny:1.0.0"))
    _assert_one_line_permanent(info, fake_registry, retries, mode)


@pytest.mark.parametrize("mode", BY_TAG)
def test_garbage_answer_to_summary_of_a_missing_tag_is_an_error_not_none(fake_registry, make_client, retries, mode):
    fake_registry.fault(mode)  # the proxy answers garbage whatever the registry holds
    with pytest.raises(RegistryError) as info:
        make_client().summary(fake_registry.ref("team/new:1.0.0"))
    _assert_one_line_permanent(info, fake_registry, retries, mode)


@pytest.mark.parametrize("mode", GARBAGE_MODES)
def test_garbage_answer_to_index_by_digest_is_a_permanent_registry_error(
    fake_registry, tiny, make_client, retries, mode
):
    fake_registry.fault(mode)
    with pytest.raises(RegistryError) as info:
        make_client().index(fake_registry.ref(f"team/tiny@{tiny.digest}"))
    _assert_one_line_permanent(info, fake_registry, retries, mode)


@pytest.mark.parametrize("mode", GARBAGE_MODES)
def test_garbage_answer_for_a_platform_manifest_fails_the_index(fake_registry, tiny, make_client, retries, mode):
    fake_registry.fault(mode, path=tiny.manifest_for("linux/arm64"))
    with pytest.raises(RegistryError) as info:
        make_client().index(fake_registry.ref("team/tiny:1.0.0"))
    _assert_one_line_permanent(info, fake_registry, retries, mode)


@pytest.mark.parametrize("mode", ["html", "wrong-content-type", "redirect-loop", "huge-header", "truncated-json"])
def test_garbage_answer_to_digest_is_a_permanent_registry_error(fake_registry, tiny, make_client, retries, mode):
    # A HEAD has no body: missing fields, wrong types and a lying header cannot show in it.
    fake_registry.fault(mode)
    with pytest.raises(RegistryError) as info:
        make_client().digest(fake_registry.ref("team/tiny:1.0.0"))
    _assert_one_line_permanent(info, fake_registry, retries, mode)


@pytest.mark.parametrize("mode", BLOB_GARBAGE)
def test_garbage_answer_to_blob_json_is_a_permanent_registry_error(fake_registry, tiny, make_client, retries, mode):
    config_digest = json.loads(tiny.manifests[tiny.manifest_for("linux/amd64")])["config"]["digest"]
    fake_registry.fault(mode)
    with pytest.raises(RegistryError) as info:
        make_client().blob_json(fake_registry.ref("team/tiny"), config_digest)
    _assert_one_line_permanent(info, fake_registry, retries, mode, blob=True)


@pytest.mark.parametrize("mode", GARBAGE_MODES)
def test_garbage_answer_to_copy_tags_moves_no_tag(fake_registry, tiny, make_client, retries, mode):
    fake_registry.fault(mode)
    with pytest.raises(RegistryError) as info:
        make_client().copy_tags(fake_registry.ref(f"team/tiny@{tiny.digest}"), ["1", "latest"])
    _assert_one_line_permanent(info, fake_registry, retries, mode)
    assert fake_registry.manifest_puts() == []
    assert fake_registry.tag_digest("team/tiny", "latest") is None


@pytest.mark.parametrize("mode", ["503", "429", "reset", "incomplete"])
def test_transient_fault_on_a_read_is_retried_and_the_read_succeeds(fake_registry, tiny, make_client, retries, mode):
    fake_registry.fault(mode, times=2)
    assert make_client().index(fake_registry.ref("team/tiny:1.0.0")).digest == tiny.digest
    assert len(retries) == 2


def test_index_lists_buildkit_attestations_per_platform_apart_from_the_platforms(fake_registry, make_client):
    from fake_image import PROVENANCE

    sbom = "https://spdx.dev/Document"
    image = make_image("att", attestation=True, predicates=(PROVENANCE, sbom), attested=["linux/arm64"])
    fake_registry.preload("team/att", image, tag="1.0.0")
    index = make_client().index(fake_registry.ref("team/att:1.0.0"))
    assert index.platforms == ("linux/amd64", "linux/arm64")
    assert index.predicates_for("linux/arm64") == {PROVENANCE, sbom}
    assert index.predicates_for("linux/amd64") == set()
    assert [a.subject for a in index.attestations] == [index.for_platform("linux/arm64").digest]
