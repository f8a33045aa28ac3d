"""`history(registry, repository, limit)`: each immutable tag of a repository, newest first, with its
digest, creation date (the index's annotation, else the config's `created`), platforms and changelog
against the build before it, read from the in-process fake registry; LIMIT bounds what is read."""

from __future__ import annotations

import datetime as dt

import pytest
from fake_history import reindex
from fake_image import sha256
from fake_layers import Platform, dist_info, layer, layered_image, status

from baseimages.catalog.fingerprint import CREATED_KEY
from baseimages.changelog import State
from baseimages.changelog.history import SCHEMA, history
from baseimages.core.errors import ConfigError

AMD, ARM = "linux/amd64", "linux/arm64"
BASE = layer({"var/lib/dpkg/status": status(("bash", "5.2.15-2"), ("curl", "7.88.1-10"))})
UPGRADE = layer({"var/lib/dpkg/status": status(("bash", "5.2.15-2"), ("curl", "7.88.1-10+deb12u5"))})
VENV = layer(dist_info("opt/venv/lib/python3.11/site-packages", "rich", "13.7.1"))
REPO = "team/uv"


def _push(registry, tags, platforms, created=None):
    image = layered_image(platforms)
    if created is not None:
        image = reindex(image, {CREATED_KEY: created})
    digest = registry.preload(REPO, image)
    for tag in tags:
        registry.tags.setdefault(REPO, {})[tag] = digest
    return digest


@pytest.fixture
def builds(fake_registry):
    """Three builds of team/uv: the first (both platforms), curl upgraded (both), rich added (amd64 only);
    rolling and candidate tags besides. Returns their digests, oldest first."""
    both = {AMD: Platform([BASE]), ARM: Platform([BASE])}
    first = _push(fake_registry, ["1.0.0-20261101.1"], both, "2026-11-01T10:00:00Z")
    upgraded = {AMD: Platform([BASE, UPGRADE]), ARM: Platform([BASE, UPGRADE])}
    second = _push(fake_registry, ["1.0.0-20261115.1", "1.0.0"], upgraded, "2026-11-15T11:30:00Z")
    third = _push(
        fake_registry,
        ["1.1.0-20261129.1", "1.1.0", "latest", "candidate-1.1.0"],
        {AMD: Platform([BASE, UPGRADE, VENV])},
        "2026-11-29T12:00:00Z",
    )
    return first, second, third


def test_each_immutable_tag_newest_first_with_its_digest_date_platforms_and_changes_since_the_one_before(
    fake_registry, make_client, builds
):
    first, second, third = builds
    found = history(make_client(), fake_registry.ref(REPO), limit=10)
    assert found.total == 3 and found.repository == f"{fake_registry.address}/{REPO}"
    assert [(b.tag, b.digest, b.previous) for b in found.builds] == [
        ("1.1.0-20261129.1", third, "1.0.0-20261115.1"),
        ("1.0.0-20261115.1", second, "1.0.0-20261101.1"),
        ("1.0.0-20261101.1", first, None),
    ]
    assert [b.created for b in found.builds] == [
        dt.datetime(2026, 11, 29, 12, 0, tzinfo=dt.UTC),
        dt.datetime(2026, 11, 15, 11, 30, tzinfo=dt.UTC),
        dt.datetime(2026, 11, 1, 10, 0, tzinfo=dt.UTC),
    ]
    assert [b.platforms for b in found.builds] == [(AMD,), (AMD, ARM), (AMD, ARM)]
    newest, middle, oldest = (b.changelog for b in found.builds)
    assert [(c.environment, c.name, c.new) for c in newest.platforms[AMD].python] == [("/opt/venv", "rich", "13.7.1")]
    assert newest.platforms[ARM].state is State.REMOVED
    for platform in (AMD, ARM):
        assert [(c.name, c.old, c.new) for c in middle.platforms[platform].packages] == [
            ("curl", "7.88.1-10", "7.88.1-10+deb12u5")
        ]
    assert oldest.first and oldest.platforms[AMD].state is State.FIRST


def test_limit_reads_only_the_newest_builds_and_the_one_before_the_last_of_them(fake_registry, make_client, builds):
    first, _, _ = builds
    found = history(make_client(), fake_registry.ref(REPO), limit=1)
    assert [b.tag for b in found.builds] == ["1.1.0-20261129.1"] and found.total == 3
    assert found.builds[0].previous == "1.0.0-20261115.1"
    read = {r.reference for r in fake_registry.requests if r.kind == "manifest"}
    assert "1.0.0-20261101.1" not in read and first not in read


def test_layers_the_builds_share_are_read_once(fake_registry, make_client, builds):
    history(make_client(), fake_registry.ref(REPO), limit=3)
    blob_reads = [r.reference for r in fake_registry.requests if r.kind == "blob" and r.method == "GET"]
    assert [blob_reads.count(sha256(x.blob)) for x in (BASE, UPGRADE, VENV)] == [1, 1, 1]


def test_without_the_created_annotation_the_date_is_the_configs_created(fake_registry, make_client):
    _push(fake_registry, ["2.0.0-20261201.1"], {AMD: Platform([BASE], created="2026-12-01T08:15:00Z")})
    _push(fake_registry, ["2.0.0-20261202.1"], {AMD: Platform([BASE, UPGRADE])})
    found = history(make_client(), fake_registry.ref(REPO))
    assert [b.created for b in found.builds] == [None, dt.datetime(2026, 12, 1, 8, 15, tzinfo=dt.UTC)]


def test_the_json_document_has_its_schema_and_each_builds_changelog(fake_registry, make_client, builds):
    document = history(make_client(), fake_registry.ref(REPO), limit=2).to_dict()
    assert document["schema"] == SCHEMA and document["total"] == 3 and document["shown"] == 2
    newest = document["builds"][0]
    assert newest["tag"] == "1.1.0-20261129.1" and newest["created"] == "2026-11-29T12:00:00+00:00"
    assert newest["platforms"] == [AMD] and newest["previous"] == "1.0.0-20261115.1"
    assert newest["changelog"]["schema"] == "baseimages.changelog/v1"
    assert newest["changelog"]["platforms"][ARM]["state"] == "removed"


def test_a_repository_without_immutable_tags_or_a_limit_below_1_is_a_config_error(fake_registry, make_client):
    fake_registry.preload("team/none", layered_image({AMD: Platform([BASE])}), tag="latest")
    with pytest.raises(ConfigError, match="no immutable tags"):
        history(make_client(), fake_registry.ref("team/none"))
    with pytest.raises(ConfigError, match="no immutable tags"):
        history(make_client(), fake_registry.ref("team/missing"))
    with pytest.raises(ConfigError, match="--limit: 0: must be at least 1"):
        history(make_client(), fake_registry.ref("team/none"), limit=0)
