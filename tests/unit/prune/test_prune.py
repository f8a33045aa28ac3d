"""Pruner: a year of builds in the in-process fake registry, pruned by the retention rules without ever
breaking a kept image (its index, its platform manifests, its attestations and its signatures)."""

from __future__ import annotations

import pytest
from fake_history import NOW, History
from fake_image import INDEX_TYPE, canonical_json

from baseimages.core.errors import RegistryError
from baseimages.prune.model import ChangeKind, Outcome
from baseimages.prune.pruner import Pruner
from baseimages.prune.retention import PRUNED_KEY, RetentionPolicy
from baseimages.settings.config import Settings

POLICY = RetentionPolicy(keep_dated=3, keep_dated_months=2, keep_monthly_months=3, candidate_days=7)
KEPT = [
    "1.1.0-20260801.1",
    "1.1.0-20261001.1",
    "2026.10",
    "1.2.0-20261101.1",
    "2026.11",
    "1.2.0",
    "1.2",
    "1",
    "latest",
]
REMOVED = [
    "1.0.0-20260101.1",
    "2026.01",
    "1.0.0-20260501.1",
    "2026.05",
    "2026.08",
    "candidate-1.2.0",
    "candidate-1.3.0",
]


@pytest.fixture
def year(fake_registry, catalog_writer):
    """team/uv with a year of builds (see KEPT and REMOVED), and a Pruner of its catalog."""
    catalog_writer.add("uv")
    history = History(fake_registry, "team/uv")
    b1 = history.build("2026-01-01", ["1.0.0-20260101.1", "2026.01"], attestation=True)
    b5 = history.build("2026-11-01", ["1.2.0-20261101.1", "2026.11", "1.2.0", "1.2", "1", "latest", "candidate-1.2.0"])
    b2 = history.build("2026-05-01", ["1.0.0-20260501.1", "2026.05"], like=b5)  # shares b5's platform manifests
    b3 = history.build("2026-08-01", ["1.1.0-20260801.1", "2026.08"])
    b4 = history.build("2026-10-01", ["1.1.0-20261001.1", "2026.10"])
    b6 = history.build("2026-11-20", ["candidate-1.3.0"])  # never promoted, 9 days old
    builds = {"b1": b1, "b2": b2, "b3": b3, "b4": b4, "b5": b5, "b6": b6}
    signatures = {"b1": history.artifact(b1), "b5": history.artifact(b5)}
    return history, builds, signatures


def _pruner(settings_for, make_client, catalog_writer, policy=POLICY):
    return Pruner(settings_for(), catalog_writer.load(), registry=make_client(), policy=policy)


@pytest.fixture
def settings_for(fake_registry, tmp_path):
    return lambda: Settings(root=tmp_path, registry=fake_registry.address, namespace="team")


def test_apply_removes_what_the_rules_say_and_every_kept_tag_stays_whole(
    year, settings_for, make_client, catalog_writer
):
    history, builds, signatures = year
    pruner = _pruner(settings_for, make_client, catalog_writer)
    pruner.apply(pruner.plan(now=NOW))
    tags = history.tags()
    assert sorted(t for t in tags if not t.startswith("sha256-")) == sorted(KEPT)
    assert all(history.whole(tag) for tag in KEPT)
    for name in ("b1", "b6"):  # removed with their own platform manifests and attestations
        assert not history.has(builds[name])
        assert not any(history.has(child) for child in history.children(builds[name]))


def test_a_digest_shared_by_a_kept_and_a_removed_tag_survives(year, settings_for, make_client, catalog_writer):
    history, builds, _ = year
    pruner = _pruner(settings_for, make_client, catalog_writer)
    plan = pruner.plan(now=NOW)
    untags = {c.tags[0]: c for c in plan.changes if c.kind is ChangeKind.UNTAG}
    assert set(untags) == {"2026.08", "candidate-1.2.0"}
    pruner.apply(plan, now=NOW)
    assert "2026.08" not in history.tags() and "candidate-1.2.0" not in history.tags()
    assert history.tags()["1.1.0-20260801.1"] == builds["b3"] and history.whole("1.1.0-20260801.1")
    assert history.tags()["latest"] == builds["b5"] and history.whole("latest")
    placeholders = [body for _, body in history.registry.manifests["team/uv"].values() if PRUNED_KEY.encode() in body]
    assert placeholders == []  # each placeholder that took a tag away was deleted again


def test_platform_manifests_a_kept_index_lists_never_go_with_a_removed_index(
    year, settings_for, make_client, catalog_writer
):
    history, builds, _ = year
    pruner = _pruner(settings_for, make_client, catalog_writer)
    plan = pruner.plan(now=NOW)
    kept_notes = {k.digest: k for repo in plan.repositories for k in repo.kept}
    assert set(kept_notes) == set(history.children(builds["b2"]))
    assert {k.reached_by for k in kept_notes.values()} <= {"1.2.0-20261101.1", "2026.11", "1.2.0", "1.2", "1", "latest"}
    pruner.apply(plan)
    assert not history.has(builds["b2"])
    assert all(history.has(child) for child in history.children(builds["b2"]))


def test_a_signature_follows_the_manifest_it_belongs_to(year, settings_for, make_client, catalog_writer):
    history, builds, signatures = year
    pruner = _pruner(settings_for, make_client, catalog_writer)
    pruner.apply(pruner.plan(now=NOW))
    assert history.tags().get(builds["b5"].replace(":", "-") + ".sig") == signatures["b5"]
    assert history.has(signatures["b5"])
    assert builds["b1"].replace(":", "-") + ".sig" not in history.tags()
    assert not history.has(signatures["b1"])


def test_a_dry_run_changes_nothing(year, settings_for, make_client, catalog_writer, fake_registry):
    pruner = _pruner(settings_for, make_client, catalog_writer)
    plan = pruner.plan(now=NOW)
    assert len(plan.removed_tags) == len(REMOVED) + 1  # and b1's signature
    assert [r.method for r in fake_registry.requests if r.method not in ("GET", "HEAD")] == []


def test_a_second_run_changes_nothing(year, settings_for, make_client, catalog_writer, fake_registry):
    history, _, _ = year
    pruner = _pruner(settings_for, make_client, catalog_writer)
    pruner.apply(pruner.plan(now=NOW))
    tags, manifests = history.tags(), set(fake_registry.manifests["team/uv"])
    fake_registry.requests.clear()
    again = pruner.plan(now=NOW)
    assert again.changes == [] and again.removed_tags == []
    result = pruner.apply(again)
    assert result.outcomes == []
    assert (history.tags(), set(fake_registry.manifests["team/uv"])) == (tags, manifests)
    assert [
        r.method for r in fake_registry.requests if r.method not in ("GET", "HEAD")
    ] == []  # not even the delete probe


def test_a_registry_without_deletes_fails_before_changing_anything(year, settings_for, make_client, catalog_writer):
    history, _, _ = year
    history.registry.delete_enabled = False
    tags = history.tags()
    pruner = _pruner(settings_for, make_client, catalog_writer)
    with pytest.raises(RegistryError) as info:
        pruner.apply(pruner.plan(now=NOW))
    assert info.value.exit_code == 3 and "does not allow deletes" in str(info.value)
    assert history.tags() == tags
    assert history.registry.manifest_puts() == []


def test_the_plan_names_the_rule_of_each_removed_tag_and_what_stays_because_it_is_reached(
    year, settings_for, make_client, catalog_writer
):
    history, builds, signatures = year
    lines = _pruner(settings_for, make_client, catalog_writer).plan(now=NOW).lines()
    text = " ".join(" ".join(lines).split())  # spaces of the columns collapsed
    assert "remove 1.0.0-20260101.1 dated: not among the newest 3, older than 2 months" in text
    assert "remove 2026.08 monthly: older than 3 months" in text
    assert "remove candidate-1.2.0 candidate: its build promoted" in text
    assert "remove candidate-1.3.0 candidate: not promoted, built 9 days ago (limit 7)" in text
    assert "untag 2026.08 (monthly: older than 3 months; still reached by kept tag 1.1.0-20260801.1); " in text
    assert f"delete index {builds['b1'][:19]}; tags 1.0.0-20260101.1, 2026.01" in text
    assert f"delete artifact {signatures['b1'][:19]}; tags {builds['b1'].replace(':', '-')}.sig" in text
    assert "delete manifest without a platform (attestation)" in text
    child = history.children(builds["b2"])[0]
    assert f"keep linux/amd64 manifest {child[:19]} of 1.0.0-20260501.1: still reached by kept tag latest" in text
    assert "keep 10 tags (1 artifact, 3 dated, 2 monthly, 4 rolling)" in text
    deletes = 4 + len(history.children(builds["b1"])) + len(history.children(builds["b6"]))  # 3 indexes, 1 signature
    assert (
        lines[-1]
        == f"8 tags to remove ({deletes} manifests to delete, 2 tags to take off manifests that stay), 10 tags kept"
    )


def test_cache_refs_of_an_image_no_longer_in_the_catalog_go_and_its_released_tags_stay(
    settings_for, make_client, catalog_writer, fake_registry
):
    catalog_writer.add("uv")
    old = History(fake_registry, "team/retired")
    release = old.build("2026-01-01", ["1.0.0", "1.0.0-20260101.1", "candidate-1.0.0"])
    cache = old.build("2026-02-01", ["cache-linux-amd64", "buildcache"])
    shared = old.build("2026-03-01", ["cache-linux-arm64", "debug"])
    History(fake_registry, "elsewhere/other").build("2026-01-01", ["cache"])
    pruner = _pruner(settings_for, make_client, catalog_writer)
    pruner.apply(pruner.plan(now=NOW))
    assert old.tags() == {"1.0.0": release, "1.0.0-20260101.1": release, "candidate-1.0.0": release, "debug": shared}
    assert not old.has(cache) and old.whole("debug")
    assert fake_registry.tags["elsewhere/other"] == {"cache": fake_registry.tags["elsewhere/other"]["cache"]}


def test_referrers_of_a_removed_manifest_go_and_those_of_a_kept_one_stay(
    settings_for, make_client, catalog_writer, fake_registry
):
    fake_registry.referrers_api = True
    catalog_writer.add("uv")
    history = History(fake_registry, "team/uv")
    old = history.build("2025-01-01", ["1.0.0-20250101.1"])
    new = history.build("2026-11-01", ["1.0.0-20261101.1", "latest"])
    old_sbom, new_sbom = history.artifact(old, with_subject=True), history.artifact(new, with_subject=True)
    pruner = _pruner(settings_for, make_client, catalog_writer, RetentionPolicy(keep_dated=1, keep_dated_months=1))
    pruner.apply(pruner.plan(now=NOW))
    assert not history.has(old) and not history.has(old_sbom)
    assert history.has(new) and history.has(new_sbom)


def test_a_placeholder_left_by_an_interrupted_prune_goes_with_the_next_one(
    settings_for, make_client, catalog_writer, fake_registry
):
    from baseimages.prune.apply import placeholder

    catalog_writer.add("uv")
    history = History(fake_registry, "team/uv")
    history.build("2026-11-01", ["1.0.0-20261101.1", "latest"])
    body = placeholder("candidate-1.0.0", "2026-11-28T00:00:00+00:00")
    left = fake_registry.add_manifest("team/uv", body, INDEX_TYPE)
    history.tag("candidate-1.0.0", left)
    pruner = _pruner(settings_for, make_client, catalog_writer)
    pruner.apply(pruner.plan(now=NOW))
    assert "candidate-1.0.0" not in history.tags() and not history.has(left)


def test_a_tag_that_moved_since_the_plan_is_left_alone(year, settings_for, make_client, catalog_writer):
    history, builds, _ = year
    pruner = _pruner(settings_for, make_client, catalog_writer)
    plan = pruner.plan(now=NOW)
    history.tag("candidate-1.2.0", builds["b4"])  # a push, ignoring the lock, moved it
    result = pruner.apply(plan)
    moved = [change for change, outcome in result.outcomes if outcome is Outcome.MOVED]
    assert [c.tags for c in moved] == [("candidate-1.2.0",)]
    assert history.tags()["candidate-1.2.0"] == builds["b4"]


def test_a_tag_the_factory_does_not_make_keeps_its_manifest_and_only_the_factory_tags_go(
    settings_for, make_client, catalog_writer, fake_registry
):
    catalog_writer.add("uv")
    history = History(fake_registry, "team/uv")
    old = history.build("2024-01-01", ["1.0.0-20240101.1", "2024.01", "pinned-by-ops"])
    history.build("2026-11-01", ["1.0.0-20261101.1", "latest"])
    pruner = _pruner(settings_for, make_client, catalog_writer, RetentionPolicy(keep_dated=1, keep_dated_months=1))
    pruner.apply(pruner.plan(now=NOW))
    assert history.tags()["pinned-by-ops"] == old and history.whole("pinned-by-ops")
    assert "1.0.0-20240101.1" not in history.tags() and "2024.01" not in history.tags()


def test_naming_some_images_prunes_only_their_repositories_and_says_cache_refs_were_not_looked_for(
    year, settings_for, make_client, catalog_writer
):
    catalog_writer.add("ml", parent="uv")
    pruner = _pruner(settings_for, make_client, catalog_writer)
    plan = pruner.plan(["uv"], now=NOW)
    assert [repo.repository.rsplit("/", 1)[-1] for repo in plan.repositories] == ["uv"]
    assert any("cache refs" in note and "not looked for" in note for note in plan.notes)


def test_a_cache_index_that_lists_blobs_is_deleted_without_reading_them_as_manifests(
    settings_for, make_client, catalog_writer, fake_registry
):
    catalog_writer.add("uv")
    layer = fake_registry.add_blob("team/gone", b"cache layer")
    config = fake_registry.add_blob("team/gone", b"{}")
    entries = [
        {"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": layer, "size": 11},
        {"mediaType": "application/vnd.buildkit.cacheconfig.v0", "digest": config, "size": 2},
    ]
    body = canonical_json({"schemaVersion": 2, "mediaType": INDEX_TYPE, "manifests": entries})
    cache = fake_registry.add_manifest("team/gone", body, INDEX_TYPE, tag="cache")
    pruner = _pruner(settings_for, make_client, catalog_writer)
    plan = pruner.plan(now=NOW)
    assert [(c.what, c.digest) for c in plan.changes] == [("cache ref", cache)]
    pruner.apply(plan)
    assert fake_registry.tags["team/gone"] == {} and cache not in fake_registry.manifests["team/gone"]


def _buildkit_cache(fake_registry, repository: str, tag: str) -> str:
    """A cache ref as BuildKit's registry exporter writes it: an index that lists blobs, not manifests."""
    layer = fake_registry.add_blob(repository, f"layers of {tag}".encode())
    config = fake_registry.add_blob(repository, b'{"layers":[]}')
    entries = [
        {"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": layer, "size": 9 + len(tag)},
        {"mediaType": "application/vnd.buildkit.cacheconfig.v0", "digest": config, "size": 13},
    ]
    body = canonical_json({"schemaVersion": 2, "mediaType": INDEX_TYPE, "manifests": entries})
    return str(fake_registry.add_manifest(repository, body, INDEX_TYPE, tag=tag))


def test_the_per_platform_build_caches_of_a_catalog_image_are_kept_and_those_of_a_retired_one_go(
    year, settings_for, make_client, catalog_writer, fake_registry
):
    history, _, _ = year
    kept = {tag: _buildkit_cache(fake_registry, "team/uv", tag) for tag in ("buildcache-amd64", "buildcache-arm64")}
    gone = [_buildkit_cache(fake_registry, "team/retired", tag) for tag in ("buildcache-amd64", "buildcache-arm64")]
    pruner = _pruner(settings_for, make_client, catalog_writer)
    plan = pruner.plan(now=NOW)
    uv = next(repo for repo in plan.repositories if repo.repository.endswith("/uv"))
    rules = {v.tag: (v.keep, v.rule) for v in uv.verdicts if v.tag in kept}
    assert rules == {tag: (True, "cache ref of a catalog image") for tag in kept}
    assert not any(set(change.tags) & set(kept) for change in uv.changes)
    pruner.apply(plan)
    assert {tag: history.tags()[tag] for tag in kept} == kept
    assert fake_registry.tags["team/retired"] == {}
    assert not any(digest in fake_registry.manifests["team/retired"] for digest in gone)


def test_what_a_nested_index_lists_stays_with_a_kept_tag_and_goes_with_a_removed_one(
    settings_for, make_client, catalog_writer, fake_registry
):
    catalog_writer.add("uv")
    history = History(fake_registry, "team/uv")
    inner_kept = history.build("2026-11-01", [])
    inner_gone = history.build("2020-01-01", [])

    def outer(inner: str, tag: str) -> str:
        entry = {"mediaType": INDEX_TYPE, "digest": inner, "size": len(history.images[inner].index)}
        body = canonical_json({"schemaVersion": 2, "mediaType": INDEX_TYPE, "manifests": [entry], "tag": tag})
        return fake_registry.add_manifest("team/uv", body, INDEX_TYPE, tag=tag)

    outer(inner_kept, "latest")
    outer(inner_gone, "1.0.0-20200101.1")
    policy = RetentionPolicy(keep_dated=0, keep_dated_months=1)
    pruner = _pruner(settings_for, make_client, catalog_writer, policy)
    pruner.apply(pruner.plan(now=NOW))
    assert history.whole("latest") and all(history.has(c) for c in history.children(inner_kept))
    assert not history.has(inner_gone) and not any(history.has(c) for c in history.children(inner_gone))
