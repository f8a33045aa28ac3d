"""Where a version's tags stand (registry.published.promotion), read from an in-process registry: what
lags, and what it costs in requests."""

from __future__ import annotations

from fake_image import make_image

from baseimages.registry.published import promotion


def _tag(registry, repo, digest, *tags):
    for tag in tags:
        registry.tags.setdefault(repo, {})[tag] = digest


def test_tags_that_agree_cost_a_tag_list_and_a_head_per_tag_and_nothing_lags(fake_registry, make_client):
    old = fake_registry.preload("t/uv", make_image("old"))
    new = fake_registry.preload("t/uv", make_image("new"))
    _tag(fake_registry, "t/uv", old, "1.0.0-20261128.1")
    _tag(fake_registry, "t/uv", new, "1.0.0-20261129.1", "1.0.0", "1.0", "1", "2026.11", "latest")
    fake_registry.requests.clear()
    state = promotion(make_client(), f"{fake_registry.address}/t/uv", "1.0.0")
    assert state is not None and state.behind == () and state.digest == new
    assert [(r.method, r.kind) for r in fake_registry.requests] == [("GET", "other")] + [("HEAD", "manifest")] * 6
    assert all(r.method in ("GET", "HEAD") for r in fake_registry.requests)


def test_a_half_promotion_lists_the_lagging_tags_in_promotion_order_a_missing_one_unasked(fake_registry, make_client):
    old = fake_registry.preload("t/uv", make_image("old"))
    new = fake_registry.preload("t/uv", make_image("new"))
    _tag(fake_registry, "t/uv", old, "1.0.0-20261128.1", "1", "latest")
    _tag(fake_registry, "t/uv", new, "1.0.0-20261129.1", "1.0.0", "1.0")
    fake_registry.requests.clear()
    state = promotion(make_client(), f"{fake_registry.address}/t/uv", "1.0.0")
    assert state is not None and state.newest == "1.0.0-20261129.1"
    assert state.behind == ("1", "2026.11", "latest") and state.at["2026.11"] is None
    assert sum(r.method == "HEAD" for r in fake_registry.requests) == 5  # 2026.11 is not in the list: not asked
    assert state.describe().startswith(f"tags disagree: 1 ({old[:19]}), 2026.11 (missing), latest ({old[:19]}) not at")


def test_a_version_without_an_immutable_tag_has_no_promotion_to_converge(fake_registry, make_client):
    assert promotion(make_client(), f"{fake_registry.address}/t/none", "1.0.0") is None
