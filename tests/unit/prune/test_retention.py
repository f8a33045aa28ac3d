"""The retention rules: each kind of tag the factory makes, and what `prune` keeps of it."""

from __future__ import annotations

import datetime as dt

import pytest

from baseimages.prune.retention import RetentionPolicy, TagKind, TagState, classify, judge, months_before
from baseimages.settings.config import Settings

NOW = dt.datetime(2026, 11, 29, 12, 0, tzinfo=dt.UTC)
D = "sha256:" + "d" * 64


DEFAULT = RetentionPolicy()


def _verdicts(tags, policy=DEFAULT, in_catalog=True):
    return {v.tag: v for v in judge(tags, policy, NOW, in_catalog)}


@pytest.mark.parametrize(
    ("tag", "kind"),
    [
        ("1.0.0-20261129.1", TagKind.DATED),
        ("1.0.0-rc.1-20261129.12", TagKind.DATED),
        ("2026.11", TagKind.MONTHLY),
        ("1.0.0", TagKind.ROLLING),
        ("1.0", TagKind.ROLLING),
        ("1", TagKind.ROLLING),
        ("latest", TagKind.ROLLING),
        ("1.0.0-rc.1", TagKind.ROLLING),
        ("candidate-1.0.0", TagKind.CANDIDATE),
        ("candidate-1.0.0-rc.1", TagKind.CANDIDATE),
        ("sha256-" + "a" * 64 + ".sig", TagKind.ARTIFACT),
        ("sha256-" + "a" * 64, TagKind.ARTIFACT),
        ("cache", TagKind.CACHE),
        ("cache-linux-arm64", TagKind.CACHE),
        ("buildcache", TagKind.CACHE),
        ("1.0.0-20261399.1", TagKind.ROLLING),  # no such day: a pre-release version, kept
        ("2026.13", TagKind.ROLLING),  # no such month: an X.Y tag, kept
        ("nightly", TagKind.OTHER),
    ],
)
def test_every_tag_the_factory_makes_is_told_apart(tag, kind):
    assert classify(tag) is kind


def test_the_newest_dated_tags_are_kept_and_also_all_of_the_last_months():
    tags = [TagState(t, D) for t in ("1.0.0-20261101.1", "1.0.0-20261101.2", "1.0.0-20260901.1", "1.0.0-20250101.1")]
    verdicts = _verdicts(tags, RetentionPolicy(keep_dated=2, keep_dated_months=3))
    assert {t: v.keep for t, v in verdicts.items()} == {
        "1.0.0-20261101.2": True,  # newest (build 2 of the day is newer than build 1)
        "1.0.0-20261101.1": True,
        "1.0.0-20260901.1": True,  # not among the newest 2, but within 3 months (since 2026-08-29)
        "1.0.0-20250101.1": False,
    }
    assert verdicts["1.0.0-20260901.1"].rule == "dated: within 3 months (since 2026-08-29)"
    assert verdicts["1.0.0-20250101.1"].rule == "dated: not among the newest 2, older than 3 months"


def test_the_newest_n_dated_tags_are_kept_however_old_they_are():
    tags = [TagState("1.0.0-20200101.1", D), TagState("1.0.0-20190101.1", D)]
    verdicts = _verdicts(tags, RetentionPolicy(keep_dated=1, keep_dated_months=1))
    assert (verdicts["1.0.0-20200101.1"].keep, verdicts["1.0.0-20190101.1"].keep) == (True, False)


def test_monthly_tags_are_kept_for_k_months_this_one_included():
    tags = [TagState(t, D) for t in ("2026.11", "2026.09", "2026.08", "2025.11")]
    verdicts = _verdicts(tags, RetentionPolicy(keep_monthly_months=4))
    assert {t: v.keep for t, v in verdicts.items()} == {
        "2026.11": True,
        "2026.09": True,
        "2026.08": True,
        "2025.11": False,
    }


def test_a_candidate_goes_once_its_build_promoted_whatever_its_age():
    tags = [TagState("candidate-1.0.0", D, NOW - dt.timedelta(hours=1)), TagState("1.0.0-20261129.1", D)]
    verdict = _verdicts(tags)["candidate-1.0.0"]
    assert not verdict.keep and verdict.rule.startswith("candidate: its build promoted")


def test_an_unpromoted_candidate_stays_d_days_then_goes():
    young = TagState("candidate-1.0.0", D, NOW - dt.timedelta(days=6, hours=23))
    old = TagState("candidate-2.0.0", D.replace("d", "e"), NOW - dt.timedelta(days=7))
    verdicts = _verdicts([young, old], RetentionPolicy(candidate_days=7))
    assert verdicts["candidate-1.0.0"].keep and not verdicts["candidate-2.0.0"].keep
    assert verdicts["candidate-2.0.0"].rule == "candidate: not promoted, built 7 days ago (limit 7)"


def test_a_candidate_whose_build_time_is_unknown_stays():
    verdict = _verdicts([TagState("candidate-1.0.0", D, None)], RetentionPolicy(candidate_days=0))["candidate-1.0.0"]
    assert verdict.keep and "build time unknown" in verdict.rule


def test_rolling_and_unknown_tags_are_always_kept():
    tags = [TagState(t, D) for t in ("latest", "1", "1.2", "1.2.3", "nightly")]
    assert all(v.keep for v in _verdicts(tags, RetentionPolicy(0, 0, 0, 0)).values())


def test_a_placeholder_left_at_a_tag_by_an_interrupted_prune_is_removed():
    verdict = _verdicts([TagState("candidate-1.0.0", D, None, leftover=True)])["candidate-1.0.0"]
    assert not verdict.keep and "interrupted prune" in verdict.rule


def test_an_image_no_longer_in_the_catalog_loses_only_its_cache_refs():
    tags = [TagState(t, D) for t in ("cache-linux-amd64", "1.0.0-20200101.1", "candidate-1.0.0", "2020.01")]
    verdicts = _verdicts(tags, RetentionPolicy(0, 0, 0, 0), in_catalog=False)
    assert {t for t, v in verdicts.items() if not v.keep} == {"cache-linux-amd64"}


def test_cache_refs_of_a_catalog_image_are_kept():
    assert _verdicts([TagState("cache", D)])["cache"].keep


def test_the_per_platform_build_cache_tags_are_cache_refs():
    for tag in ("buildcache-amd64", "buildcache-arm64", "buildcache-arm-v7"):
        assert classify(tag) is TagKind.CACHE
    tags = [TagState("buildcache-amd64", D), TagState("buildcache-arm64", D)]
    assert all(v.keep for v in _verdicts(tags, RetentionPolicy(0, 0, 0, 0)).values())
    assert not any(v.keep for v in _verdicts(tags, RetentionPolicy(0, 0, 0, 0), in_catalog=False).values())


def test_an_artifact_tag_names_the_digest_it_belongs_to():
    tag = "sha256-" + "a" * 64 + ".att"
    assert _verdicts([TagState(tag, D)])[tag].subject == "sha256:" + "a" * 64


def test_months_before_clamps_to_the_last_day_of_a_shorter_month():
    assert months_before(dt.datetime(2026, 3, 31, tzinfo=dt.UTC), 1) == dt.date(2026, 2, 28)
    assert months_before(dt.datetime(2026, 1, 15, tzinfo=dt.UTC), 13) == dt.date(2024, 12, 15)


def test_the_policy_comes_from_the_retention_settings(tmp_path):
    settings = Settings(root=tmp_path).with_overrides(retention_keep_dated=2, retention_keep_storage="1GB")
    assert RetentionPolicy.from_settings(settings) == RetentionPolicy(keep_dated=2, keep_storage="1GB")
