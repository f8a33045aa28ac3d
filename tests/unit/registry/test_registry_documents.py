"""The checks every registry answer passes before it is read: type, JSON, shape, digest, size."""

from __future__ import annotations

import json

import pytest
from fake_registry import INDEX_TYPE, MANIFEST_TYPE, make_image, sha256

from baseimages.core.errors import RegistryError
from baseimages.oci.documents import annotations_of, descriptor, platform_of
from baseimages.registry.documents import check_blob, check_manifest, parse_json
from baseimages.registry.http import Response

URL = "http://registry.test/v2/team/tiny/manifests/1.0.0"
IMAGE = make_image()
MANIFEST = next(iter(IMAGE.manifests.values()))


def _answer(body: bytes, content_type: str = INDEX_TYPE, **headers: str) -> Response:
    return Response(200, {"content-type": content_type, **{k.replace("_", "-"): v for k, v in headers.items()}}, body)


def _permanent(call, *words: str) -> str:
    with pytest.raises(RegistryError) as info:
        call()
    message = str(info.value)
    assert not info.value.transient and "\n" not in message and URL.split("/v2")[0] in message, message
    for word in words:
        assert word in message, f"{word!r} not in {message!r}"
    return message


def test_index_by_tag_is_read_with_its_digest_and_type():
    manifest = check_manifest(_answer(IMAGE.index), URL, "GET", "1.0.0")
    assert (manifest.digest, manifest.media_type, manifest.is_index) == (IMAGE.digest, INDEX_TYPE, True)
    assert manifest.doc == json.loads(IMAGE.index)


def test_manifest_by_digest_with_an_agreeing_header_is_read():
    digest = sha256(MANIFEST)
    answer = _answer(MANIFEST, MANIFEST_TYPE, docker_content_digest=digest)
    assert check_manifest(answer, URL, "GET", digest).digest == digest


def test_content_type_with_parameters_is_accepted():
    assert check_manifest(_answer(IMAGE.index, INDEX_TYPE + "; charset=utf-8"), URL, "GET", "1.0.0").is_index


@pytest.mark.parametrize("content_type", ["application/json", ""])
def test_generic_content_type_lets_the_documents_media_type_decide(content_type):
    assert check_manifest(_answer(IMAGE.index, content_type), URL, "GET", "1.0.0").media_type == INDEX_TYPE
    bare = json.dumps({k: v for k, v in json.loads(MANIFEST).items() if k != "mediaType"}).encode()
    assert check_manifest(_answer(bare, content_type), URL, "GET", "1.0.0").media_type == MANIFEST_TYPE


def test_head_by_tag_returns_the_header_digest_without_a_body():
    answer = Response(200, {"content-type": INDEX_TYPE, "docker-content-digest": IMAGE.digest}, b"")
    assert check_manifest(answer, URL, "HEAD", "1.0.0").digest == IMAGE.digest


def test_html_page_is_not_a_manifest():
    _permanent(lambda: check_manifest(_answer(b"<html>login</html>", "text/html"), URL, "GET", "1.0.0"), "HTML page")
    head = Response(200, {"content-type": "text/html"}, b"")
    _permanent(lambda: check_manifest(head, URL, "HEAD", "1.0.0"), "text/html", "where a manifest was expected")


def test_html_page_served_as_json_is_invalid_json():
    message = _permanent(
        lambda: check_manifest(_answer(b"<html>oops</html>", "application/json"), URL, "GET", "1.0.0"), "invalid JSON"
    )
    assert "HTML page" in message


def test_truncated_json_says_where_it_stops():
    body = IMAGE.index[:40]
    _permanent(lambda: check_manifest(_answer(body), URL, "GET", "1.0.0"), "invalid JSON", f"of {len(body)}")


def test_body_that_is_not_utf8_is_refused():
    _permanent(lambda: check_manifest(_answer(b"\xff\xfe\x00"), URL, "GET", "1.0.0"), "not UTF-8")


def test_json_array_is_not_a_manifest():
    _permanent(lambda: check_manifest(_answer(b"[1, 2]"), URL, "GET", "1.0.0"), "JSON list")


def test_wrong_content_type_for_a_manifest_is_refused():
    _permanent(lambda: check_manifest(_answer(IMAGE.index, "text/plain"), URL, "GET", "1.0.0"), "text/plain")


def test_unsupported_schema1_manifest_is_refused():
    schema1 = "application/vnd.docker.distribution.manifest.v1+prettyjws"
    _permanent(lambda: check_manifest(_answer(b'{"schemaVersion": 1}', schema1), URL, "GET", "1.0.0"), schema1)


def test_content_type_and_media_type_must_agree():
    _permanent(lambda: check_manifest(_answer(MANIFEST, INDEX_TYPE), URL, "GET", "1.0.0"), "mediaType")


def test_body_not_hashing_to_the_requested_digest_is_refused():
    wanted = sha256(b"another manifest")
    _permanent(lambda: check_manifest(_answer(IMAGE.index), URL, "GET", wanted), "asked by", wanted)


def test_body_not_hashing_to_its_docker_content_digest_header_is_refused():
    lie = sha256(b"something else")
    answer = _answer(IMAGE.index, docker_content_digest=lie)
    _permanent(lambda: check_manifest(answer, URL, "GET", "1.0.0"), "Docker-Content-Digest", lie)


def test_head_by_digest_whose_header_names_another_digest_is_refused():
    answer = Response(200, {"content-type": INDEX_TYPE, "docker-content-digest": sha256(b"x")}, b"")
    _permanent(lambda: check_manifest(answer, URL, "HEAD", IMAGE.digest), "asked by digest")


def test_digest_header_that_is_not_a_digest_is_refused():
    answer = _answer(IMAGE.index, docker_content_digest="md5:abc")
    _permanent(lambda: check_manifest(answer, URL, "GET", "1.0.0"), "not a sha256 or sha512 digest")


@pytest.mark.parametrize(
    ("doc", "words"),
    [
        ({"schemaVersion": 2, "mediaType": INDEX_TYPE}, ["the index has no 'manifests'"]),
        ({"mediaType": INDEX_TYPE, "manifests": "linux/amd64"}, ["'manifests' of type str, expected list"]),
        ({"mediaType": INDEX_TYPE, "manifests": [{"digest": sha256(b"m")}]}, ["index entry 0 has no 'size'"]),
        ({"mediaType": INDEX_TYPE, "manifests": [{"digest": "sha256:zz", "size": 1}]}, ["not a sha256"]),
        ({"mediaType": INDEX_TYPE, "manifests": [{"digest": sha256(b"m"), "size": True}]}, ["of type bool"]),
        ({"mediaType": INDEX_TYPE, "manifests": [{"digest": sha256(b"m"), "size": -1}]}, ["negative size"]),
        ({"mediaType": INDEX_TYPE, "manifests": [7]}, ["index entry 0 is a int"]),
        (
            {"mediaType": INDEX_TYPE, "manifests": [{"digest": sha256(b"m"), "size": 1, "platform": {"os": "linux"}}]},
            ["platform has no 'architecture'"],
        ),
        ({"mediaType": INDEX_TYPE, "manifests": [], "annotations": ["x"]}, ["'annotations' of type list"]),
        ({"mediaType": INDEX_TYPE, "manifests": [], "annotations": {"a": 1}}, ["annotations are not all strings"]),
        ({"mediaType": MANIFEST_TYPE, "layers": []}, ["the image manifest has no 'config'"]),
        ({"mediaType": MANIFEST_TYPE, "config": {"digest": sha256(b"c"), "size": 1}}, ["has no 'layers'"]),
        ({"mediaType": MANIFEST_TYPE, "config": [], "layers": []}, ["'config' of type list"]),
    ],
)
def test_json_lacking_the_fields_we_read_or_with_wrong_types_is_refused(doc, words):
    body = json.dumps(doc).encode()
    _permanent(lambda: check_manifest(_answer(body, doc["mediaType"]), URL, "GET", "1.0.0"), *words)


def test_attestation_entries_have_no_platform_key():
    assert platform_of({"platform": {"os": "unknown", "architecture": "unknown"}}, URL) is None
    assert platform_of({}, URL) is None
    assert platform_of({"platform": {"os": "linux", "architecture": "arm", "variant": "v7"}}, URL) == "linux/arm/v7"


def test_annotations_and_descriptors_read_from_a_checked_document():
    assert annotations_of({"annotations": {"a": "b"}}, URL) == {"a": "b"}
    assert annotations_of({}, URL) == {}
    assert descriptor({"digest": sha256(b"c"), "size": 3}, URL, "the config") == (sha256(b"c"), 3)


def test_blob_of_the_right_size_and_digest_is_returned():
    config = next(iter(IMAGE.blobs.values()))
    assert check_blob(_answer(config, "application/octet-stream"), URL, sha256(config), len(config)) == config


def test_blob_of_the_wrong_size_is_refused():
    _permanent(lambda: check_blob(_answer(b"<html></html>", "text/html"), URL, sha256(b"x"), 1), "HTML page", "1 bytes")


def test_blob_of_the_wrong_digest_is_refused():
    _permanent(lambda: check_blob(_answer(b"{}", "application/json"), URL, sha256(b"x"), None), "digest is", "altered")


def test_blob_whose_header_names_another_digest_is_refused():
    answer = _answer(b"{}", "application/octet-stream", docker_content_digest=sha256(b"x"))
    _permanent(lambda: check_blob(answer, URL, sha256(b"{}"), 2), "Docker-Content-Digest")


def test_parse_json_wants_an_object():
    assert parse_json(_answer(b'{"a": 1}'), URL, "a config") == {"a": 1}
    _permanent(lambda: parse_json(_answer(b'"text"'), URL, "a config"), "JSON str", "a config")
