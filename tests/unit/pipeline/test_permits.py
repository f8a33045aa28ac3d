"""The run's permits: a free one goes to the ready image of the best rank, never to whoever asked first."""

from __future__ import annotations

import threading
import time

from baseimages.catalog.plan import make_plan
from baseimages.pipeline.permits import Permits, ranks
from baseimages.settings.config import Settings


def _taker(permits: Permits, name: str, order: list[str]) -> threading.Thread:
    def take() -> None:
        permits.acquire(name)
        order.append(name)

    thread = threading.Thread(target=take, daemon=True)
    thread.start()
    return thread


def test_an_image_with_descendants_ranks_before_leaves_and_then_the_plans_order_decides(catalog_writer) -> None:
    catalog_writer.add("uv")
    catalog_writer.add("ml", parent="uv")
    catalog_writer.add("security", parent="uv")
    catalog_writer.add("torch", parent="ml")
    catalog_writer.add("solo")
    catalog = catalog_writer.load()
    plan = make_plan(catalog, Settings(root=catalog_writer.root, registry="r.test", namespace="t"))
    rank = ranks(plan)
    assert sorted(rank, key=rank.__getitem__)[:2] == ["uv", "ml"]  # 3 and 1 descendants
    assert rank["security"] < rank["torch"] or rank["security"][0] == rank["torch"][0] == 0


def test_a_ready_sibling_of_better_rank_gets_the_free_permit_even_when_it_asks_last() -> None:
    permits = Permits(1, {"ml": (0, 0), "security": (0, 1)}, ready=[])
    permits.acquire("parent")  # the parent holds the only permit, then publishes its two children at once
    permits.ready(["ml", "security"])
    order: list[str] = []
    security = _taker(permits, "security", order)
    time.sleep(0.05)  # security asks first; ml, readied with it, has not asked yet
    permits.release()
    time.sleep(0.05)
    assert order == []  # security waits for ml, which ranks better and is ready
    ml = _taker(permits, "ml", order)
    ml.join(2)
    assert order == ["ml"]
    permits.release()
    security.join(2)
    assert order == ["ml", "security"]


def test_a_ready_image_that_never_asks_is_dropped_and_no_longer_holds_the_others_back() -> None:
    permits = Permits(1, {"skipped": (0, 0), "built": (0, 1)}, ready=["skipped", "built"])
    order: list[str] = []
    built = _taker(permits, "built", order)
    time.sleep(0.05)
    assert order == []
    permits.drop("skipped")  # unchanged: it goes no further than its decision
    built.join(2)
    assert order == ["built"]


def test_at_most_jobs_images_hold_a_permit_at_once() -> None:
    permits = Permits(2, {}, ready=[])
    order: list[str] = []
    threads = [_taker(permits, name, order) for name in ("a", "b", "c")]
    time.sleep(0.1)
    assert len(order) == 2
    permits.release()
    for thread in threads:
        thread.join(2)
    assert sorted(order) == ["a", "b", "c"]


def test_try_acquire_takes_a_free_permit_at_once_and_never_waits() -> None:
    permits = Permits(2, {"uv": (-1, 0), "ml": (0, 1)}, ready=["uv"])
    permits.acquire("uv")
    assert permits.try_acquire("ml") is True
    assert permits.try_acquire("security") is False  # none free: it does not wait
    permits.release()
    assert permits.try_acquire("security") is True


def test_try_acquire_leaves_a_free_permit_to_a_ready_image_of_better_rank() -> None:
    permits = Permits(1, {"solo": (0, 0), "ml": (0, 1)}, ready=["solo"])
    assert permits.try_acquire("ml") is False  # solo is ready and ranks first
    permits.acquire("solo")
    permits.release()
    assert permits.try_acquire("ml") is True


def test_an_offered_platform_output_is_given_after_the_grace_until_the_candidate_exists_then_none(
    monkeypatch,
) -> None:
    from pathlib import Path

    import baseimages.pipeline.permits as permits
    from baseimages.pipeline.permits import ImageState
    from baseimages.pipeline.stages import Pinned

    monkeypatch.setattr(permits, "WARM_GRACE", 0.1)

    state = ImageState()
    output = Pinned("uv (linux/amd64)", "sha256:" + "a" * 64, local=True, layout=Path("/tmp/uv.oci"))
    got: list[object] = []
    waiter = threading.Thread(target=lambda: got.append(state.offered("linux/amd64")), daemon=True)
    waiter.start()
    time.sleep(0.05)
    assert waiter.is_alive()  # nothing offered yet: it waits
    state.offer("linux/amd64", output)
    time.sleep(0.03)
    assert waiter.is_alive()  # within the grace: the candidate may be about to exist
    waiter.join(1)
    assert got == [output]
    later = threading.Thread(target=lambda: got.append(state.offered("linux/arm64")), daemon=True)
    later.start()
    state.publish()  # the candidate exists: a platform never offered is not waited for any more
    later.join(1)
    assert got == [output, None]
    assert state.offered("linux/amd64") is None  # the candidate is what children build FROM now


def test_an_offer_followed_by_the_candidate_within_the_grace_gives_none(monkeypatch) -> None:
    from pathlib import Path

    import baseimages.pipeline.permits as permits
    from baseimages.pipeline.permits import ImageState
    from baseimages.pipeline.stages import Pinned

    monkeypatch.setattr(permits, "WARM_GRACE", 5.0)
    state = ImageState()
    got: list[object] = []
    waiter = threading.Thread(target=lambda: got.append(state.offered("linux/amd64")), daemon=True)
    waiter.start()
    state.offer("linux/amd64", Pinned("uv (linux/amd64)", "sha256:" + "a" * 64, local=True, layout=Path("/x")))
    time.sleep(0.05)
    state.publish()  # the candidate, well within the grace
    waiter.join(1)
    assert got == [None]


def test_a_free_permit_goes_to_the_warm_up_of_the_best_ranked_hopeful_child_whichever_tries_first() -> None:
    permits = Permits(2, {"uv": (-2, 0), "ml": (0, 1), "security": (0, 2)}, ready=["uv"])
    permits.acquire("uv")
    permits.hope("ml")
    permits.hope("security")
    assert permits.try_acquire("security") is False  # ml ranks first and may still try
    assert permits.try_acquire("ml") is True
    permits.release()
    permits.hope("security")
    permits.unhope("security")  # its warm-up ended without trying
    assert permits.try_acquire("security") is True
