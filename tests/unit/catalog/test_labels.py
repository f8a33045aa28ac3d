"""Labels that mean what they say: the repository's URL (never a checkout path), no empty values."""

from __future__ import annotations

import pytest

from baseimages.catalog.labels import image_labels, repository_url


@pytest.mark.parametrize(
    ("remote", "url"),
    [
        ("https://github.com/acme/baseimages.git", "https://github.com/acme/baseimages"),
        ("https://token:x-oauth@github.com/acme/baseimages", "https://github.com/acme/baseimages"),
        ("git@github.com:acme/baseimages.git", "https://github.com/acme/baseimages"),
        ("ssh://git@gitlab.example.com:2222/team/baseimages.git", "https://gitlab.example.com/team/baseimages"),
        ("/home/runner/work/baseimages", ""),
        ("file:///srv/git/baseimages", ""),
        ("../baseimages", ""),
        ("", ""),
    ],
)
def test_the_source_label_is_the_remotes_web_url_and_none_for_a_local_path(remote, url):
    assert repository_url(remote) == url


def test_labels_leave_out_what_is_empty_and_name_the_parent_as_given():
    labels = image_labels(
        title="ml",
        version="1.0.0",
        description="",
        created="2026-11-29T00:00:00Z",
        revision="abc",
        source="",
        base_name="registry/ns/uv:1.0.0-20261129.1",
        base_digest="sha256:" + "a" * 64,
        inputs=None,
    )
    assert "org.opencontainers.image.source" not in labels
    assert "org.opencontainers.image.description" not in labels
    assert labels["org.opencontainers.image.base.name"] == "registry/ns/uv:1.0.0-20261129.1"
