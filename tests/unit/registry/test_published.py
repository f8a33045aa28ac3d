"""Where a version's tags stand (registry.published.promotion), read from an in-process registry: what
lags, and what it costs in requests."""

from __future__ import annotations

import threading

from fake_image import make_image

from baseimages.core.reference import Reference
from baseimages.registry.published import digests, promotion


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


class _Gate:
    """A registry whose HEADs each wait until WIDTH of them are in flight (a lone request would time out)."""

    def __init__(self, width: int, names: dict[str, str]) -> None:
        self.barrier = threading.Barrier(width, timeout=5)
        self.names = names

    def digest(self, ref: Reference) -> str | None:
        self.barrier.wait()
        return self.names.get(ref.tag or "")

    def tags(self, repository: Reference) -> list[str]:
        return list(self.names)


def test_the_heads_of_an_images_tags_are_in_flight_together_and_a_missing_tag_names_nothing():
    registry = _Gate(3, {"1.0.0": "sha256:a", "1.0": "sha256:a"})
    found = digests(registry, "r.example/t/uv", ["1.0.0", "1.0", "1"])
    assert found == {"1.0.0": "sha256:a", "1.0": "sha256:a", "1": None}
