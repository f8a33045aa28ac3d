"""Listing tags and repositories (every page, by the Link header), referrers, and manifest DELETE by digest,
against the in-process fake registry."""

from __future__ import annotations

import json

import pytest
from fake_registry import INDEX_TYPE, MANIFEST_TYPE, make_image, sha256

from baseimages.core.errors import RegistryError
from baseimages.core.reference import Reference
from baseimages.registry.client import RegistryClient
from baseimages.registry.http import Response
from baseimages.registry.listing import next_page


def _repo(registry, path="team/tiny"):
    return registry.ref(path)


def test_tags_come_from_every_page_the_link_header_names(fake_registry, make_client):
    fake_registry.page_size = 2
    image = make_image()
    for tag in ("a", "b", "c", "d", "e"):
        fake_registry.preload("team/tiny", image, tag=tag)
    tags = make_client().tags(_repo(fake_registry))
    assert tags == ["a", "b", "c", "d", "e"]
    pages = [r for r in fake_registry.requests if r.path.endswith("/tags/list")]
    assert len(pages) == 3
    assert [r.query.get("last") for r in pages] == [None, "b", "d"]


def test_a_repository_that_does_not_exist_has_no_tags(fake_registry, make_client):
    assert make_client().tags(_repo(fake_registry, "team/nothing")) == []


def test_repositories_come_from_every_page_of_the_catalog(fake_registry, make_client):
    fake_registry.page_size = 1
    for path in ("team/a", "team/b", "other/c"):
        fake_registry.preload(path, make_image(path), tag="1")
    assert make_client().repositories(fake_registry.address) == ["other/c", "team/a", "team/b"]
    assert sum(r.path == "/v2/_catalog" for r in fake_registry.requests) == 3


def test_a_tag_list_that_is_an_html_page_fails_at_once_naming_the_url(fake_registry, make_client, retries):
    fake_registry.preload("team/tiny", make_image(), tag="1")
    fake_registry.fault("html", path=r"/tags/list")
    with pytest.raises(RegistryError) as info:
        make_client().tags(_repo(fake_registry))
    assert "/v2/team/tiny/tags/list" in str(info.value) and "HTML page" in str(info.value)
    assert info.value.exit_code == 3
    assert retries == []


def test_a_tag_list_that_fails_transiently_is_retried(fake_registry, make_client, retries):
    fake_registry.preload("team/tiny", make_image(), tag="1")
    fake_registry.fault("503", times=1, path=r"/tags/list")
    assert make_client().tags(_repo(fake_registry)) == ["1"]
    assert len(retries) == 1


class _LoopingClient(RegistryClient):
    """A client whose every answer links to the page it is on (a registry bug)."""

    def call(self, method, ref, path_or_url, **kwargs):  # type: ignore[no-untyped-def]
        body = json.dumps({"name": "x", "tags": ["t"]}).encode()
        return Response(200, {"content-type": "application/json", "link": "</v2/x/tags/list>; rel=next"}, body)


def test_pages_that_link_back_are_an_error_not_an_endless_loop():
    with pytest.raises(RegistryError, match="link back"):
        _LoopingClient().tags(Reference("registry.test", "x"))


def test_the_next_page_link_is_made_absolute_against_the_page_it_came_from():
    answer = Response(200, {"link": '</v2/_catalog?last=b&n=2>; rel="next"'}, b"")
    assert next_page(answer, "https://registry.test/v2/_catalog") == "https://registry.test/v2/_catalog?last=b&n=2"
    assert next_page(Response(200, {}, b""), "https://registry.test/v2/_catalog") is None


def test_deleting_a_manifest_by_digest_takes_every_tag_that_points_at_it(fake_registry, make_client):
    digest = fake_registry.preload("team/tiny", make_image(), tag="old")
    fake_registry.tags["team/tiny"]["also-old"] = digest
    kept = fake_registry.preload("team/tiny", make_image("new"), tag="new")
    assert make_client().delete_manifest(fake_registry.ref(f"team/tiny@{digest}")) is True
    assert fake_registry.tags["team/tiny"] == {"new": kept}
    assert digest not in fake_registry.manifests["team/tiny"]


def test_deleting_a_manifest_that_is_gone_already_says_so_without_failing(fake_registry, make_client):
    fake_registry.preload("team/tiny", make_image(), tag="1")
    gone = sha256(b"nothing")
    assert make_client().delete_manifest(fake_registry.ref(f"team/tiny@{gone}")) is False


def test_a_registry_that_does_not_allow_deletes_is_a_clear_error_with_exit_code_3(fake_registry, make_client):
    fake_registry.delete_enabled = False
    fake_registry.preload("team/tiny", make_image(), tag="1")
    with pytest.raises(RegistryError) as info:
        make_client().check_deletes(_repo(fake_registry))
    assert info.value.exit_code == 3
    assert "does not allow deletes" in str(info.value) and "storage.delete.enabled" in str(info.value)
    assert fake_registry.tags["team/tiny"] == {"1": make_image().digest}


def test_asking_whether_deletes_are_allowed_changes_nothing(fake_registry, make_client):
    fake_registry.preload("team/tiny", make_image(), tag="1")
    before = json.dumps(fake_registry.tags) + str(sorted(fake_registry.manifests["team/tiny"]))
    make_client().check_deletes(_repo(fake_registry))
    assert json.dumps(fake_registry.tags) + str(sorted(fake_registry.manifests["team/tiny"])) == before
    assert [r.method for r in fake_registry.requests] == ["DELETE"]


def test_referrers_are_none_where_the_registry_has_no_referrers_api(fake_registry, make_client):
    digest = fake_registry.preload("team/tiny", make_image(), tag="1")
    assert make_client().referrers(fake_registry.ref(f"team/tiny@{digest}")) is None


def test_referrers_list_the_manifests_whose_subject_is_the_digest(fake_registry, make_client):
    fake_registry.referrers_api = True
    image = make_image()
    digest = fake_registry.preload("team/tiny", image, tag="1")
    config = next(iter(image.blobs))
    signature = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": MANIFEST_TYPE,
            "artifactType": "application/vnd.dev.cosign.simplesigning.v1+json",
            "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": config, "size": 2},
            "layers": [],
            "subject": {"mediaType": INDEX_TYPE, "digest": digest, "size": len(image.index)},
        }
    ).encode()
    signed = fake_registry.add_manifest("team/tiny", signature)
    assert make_client().referrers(fake_registry.ref(f"team/tiny@{digest}")) == [(signed, MANIFEST_TYPE)]
