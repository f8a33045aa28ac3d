"""compute_tags: immutable, rolling, monthly and candidate tags, all valid Docker tags."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from baseimages.catalog.tags import compute_tags

# Docker's tag grammar (distribution/reference): [\w][\w.-]{0,127}, \w being ASCII here.
DOCKER_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
DAY = dt.date(2026, 11, 28)


def test_release_gets_numbered_immutable_rolling_monthly_and_candidate_tags():
    tags = compute_tags("1.2.3", DAY)
    assert tags.immutable(1) == "1.2.3-20261128.1"
    assert tags.immutable(2) == "1.2.3-20261128.2"
    assert tags.rolling == ("1.2.3", "1.2", "1", "2026.11", "latest")
    assert tags.candidate == "candidate-1.2.3"
    assert tags.shown == ("1.2.3-20261128.N", "1.2.3", "1.2", "1", "2026.11", "latest")


def test_dates_are_zero_padded():
    tags = compute_tags("0.1.0", dt.date(2027, 1, 5))
    assert tags.immutable(1) == "0.1.0-20270105.1"
    assert "2027.01" in tags.rolling


def test_prerelease_gets_only_its_own_tag_and_never_latest():
    tags = compute_tags("2.0.0-rc.1", DAY)
    assert tags.immutable(1) == "2.0.0-rc.1-20261128.1"
    assert tags.rolling == ("2.0.0-rc.1",)
    assert tags.candidate == "candidate-2.0.0-rc.1"
    assert "latest" not in tags.shown
    assert "2.0" not in tags.shown and "2" not in tags.shown and "2.0.0" not in tags.shown


def test_build_metadata_is_dropped_from_every_tag():
    tags = compute_tags("1.2.3+build.5", DAY)
    every = (tags.immutable(1), *tags.rolling, tags.candidate)
    assert all("+" not in tag for tag in every)
    assert tags.immutable(1) == "1.2.3-20261128.1"
    assert tags.rolling[0] == "1.2.3"
    assert compute_tags("2.0.0-rc.1+sha.abc", DAY).rolling == ("2.0.0-rc.1",)


@pytest.mark.parametrize(
    "version", ["1.2.3", "0.0.1", "10.20.30", "2.0.0-rc.1", "1.2.3+build.5", "1.0.0-alpha-a.b-c+exp.sha.5114f85"]
)
def test_every_tag_matches_docker_tag_grammar(version):
    tags = compute_tags(version, DAY)
    for tag in (tags.immutable(999), *tags.rolling, tags.candidate):
        assert DOCKER_TAG.match(tag), tag


def test_version_that_is_not_semver_raises_value_error():
    with pytest.raises(ValueError):
        compute_tags("1.2", DAY)


def test_immutable_tags_parse_and_sort_by_version_then_day_then_build_number():
    from baseimages.catalog.tags import parse_immutable

    tags = ["1.0.0-20261129.10", "1.0.0-20261129.9", "1.0.0-20261130.1", "0.9.0-20261231.1", "2.0.0-rc.1-20261101.1"]
    parsed = [parse_immutable(tag) for tag in tags]
    assert all(parsed)
    ordered = [found.tag for found in sorted(p for p in parsed if p is not None)]
    assert ordered == [
        "0.9.0-20261231.1", "1.0.0-20261129.9", "1.0.0-20261129.10", "1.0.0-20261130.1", "2.0.0-rc.1-20261101.1"
    ]  # fmt: skip
    others = ("latest", "1.0", "2026.11", "candidate-1.0.0", "1.0.0-20261399.1", "1.0.0-20261129.0", "sha256-a.sig")
    for other in others:
        assert parse_immutable(other) is None


def test_the_tags_that_follow_the_newest_build_are_in_promotion_order_and_those_of_other_versions_are_left():
    from baseimages.catalog.tags import following

    newest, tags = following("1.0.0", ["1.0.0-20261128.1", "1.0.0-20261129.2", "1.0.0-20261129.1", "latest"]) or (0, 0)
    assert (newest.tag, tags) == ("1.0.0-20261129.2", ("1.0.0", "1.0", "1", "2026.11", "latest"))  # type: ignore[union-attr]
    # A newer version owns the tags it shares with this one (`1`, `latest`), and November's tag.
    found = following("1.0.0", ["1.0.0-20261129.1", "1.1.0-20261101.1"])
    assert found is not None and found[1] == ("1.0.0", "1.0")
    # An older version owns nothing of the newer one's; a build of a later month leaves the old month's tag.
    assert following("1.1.0", ["1.0.0-20261201.1", "1.1.0-20261101.1"]) == (following("1.1.0", ["1.1.0-20261101.1"]))
    assert following("2.0.0", ["1.0.0-20261201.1"]) is None
    found = following("2.0.0-rc.1", ["2.0.0-rc.1-20261101.1", "1.0.0-20261101.1"])
    assert found is not None and found[1] == ("2.0.0-rc.1",)
