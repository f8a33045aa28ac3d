"""How the images of a run wait for each other: each one's state for its children (`ImageState`), and the
`jobs` permits of a run: at most that many images run their heavy stages at once, and when a
permit frees, the images that can use it are let in by rank, not by which thread asked first.

An image is *ready* once it may start (an image whose parent is external: from the start; a child:
when its parent's candidate exists, `ready` is told of all its children at once, before they wake).
A permit goes to the ready image of the lowest rank; an image that ranks better and is ready but has
not asked yet is waited for, so that a parent's children do not race for the one free permit. Every
image leaves the ready set, by `acquire` or by `drop` (skipped, blocked, failed: it never asks).

A child's cache warm-up, before it is ready, may only `try_acquire` a permit that is free at once (never
waiting); children that may warm say so (`hope`), and a free permit is left to the best-ranked of them.

Rank: an image with more descendants first (the images waiting for it are the run's longest chains),
then the plan's order. The scheduler's own rule, not a setting.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

from ..catalog.plan import Plan

if TYPE_CHECKING:
    from .stages import Pinned


# Seconds a child's warm-up waits after its parent offered a platform's output: a candidate that follows
# this soon (the parent's platforms ended together, e.g. every step cached) leaves it nothing to gain, and
# the child's build of that platform would wait for a warm-up doing its own work again.
WARM_GRACE = 3.0


def ranks(plan: Plan) -> dict[str, tuple[int, int]]:
    """Each planned image's rank: (minus its number of descendants in PLAN, its place in PLAN)."""
    parents = {image.name: image.spec.parent for image in plan.images if not image.spec.parent_is_external}
    below = {image.name: 0 for image in plan.images}
    for name in below:
        seen: set[str] = set()
        parent = parents.get(name)
        while parent is not None and parent in below and parent not in seen:
            seen.add(parent)
            below[parent] += 1
            parent = parents.get(parent)
    return {image.name: (-below[image.name], i) for i, image in enumerate(plan.images)}


class Permits:
    def __init__(self, jobs: int, rank: Mapping[str, tuple[int, int]], ready: Iterable[str] = ()) -> None:
        self._free = max(1, jobs)
        self._rank = dict(rank)
        self._ready: set[str] = set(ready)
        self._hopeful: set[str] = set()  # may try for a permit soon (see `hope`)
        self._changed = threading.Condition()

    def ready(self, names: Iterable[str]) -> None:
        """NAMES may start now (they will `acquire` or `drop`)."""
        with self._changed:
            self._ready.update(names)
            self._changed.notify_all()

    def acquire(self, name: str) -> None:
        """Wait until a permit is free and NAME is the best-ranked ready image, then take the permit."""
        with self._changed:
            self._ready.add(name)
            while self._free == 0 or min(self._ready, key=self._key) != name:
                self._changed.wait()
            self._ready.discard(name)
            self._free -= 1
            self._changed.notify_all()

    def hope(self, name: str) -> None:
        """NAME, not yet ready, may `try_acquire` a permit soon (a child's cache warm-up while its parent
        builds): until it tries (or `drop`s), a free permit is left to it over any that ranks after it."""
        with self._changed:
            self._hopeful.add(name)

    def unhope(self, name: str) -> None:
        """NAME will not `try_acquire` after all (its warm-up is over)."""
        with self._changed:
            self._hopeful.discard(name)

    def try_acquire(self, name: str) -> bool:
        """Take a permit for NAME if one is free now and no ready or hopeful image ranks before it; never
        waits (NAME is no longer hopeful)."""
        with self._changed:
            self._hopeful.discard(name)
            others = (self._ready | self._hopeful) - {name}
            if self._free == 0 or any(self._key(other) < self._key(name) for other in others):
                return False
            self._free -= 1
            self._changed.notify_all()
            return True

    def release(self) -> None:
        with self._changed:
            self._free += 1
            self._changed.notify_all()

    def drop(self, name: str) -> None:
        """NAME will not ask for a permit (any more): the others no longer wait for it."""
        with self._changed:
            self._hopeful.discard(name)
            if name in self._ready:
                self._ready.discard(name)
                self._changed.notify_all()

    def _key(self, name: str) -> tuple[int, int]:
        return self._rank.get(name, (0, len(self._rank)))


class ImageState:
    """Where one image is, for its children: `built` once its candidate exists (or it was skipped, or it
    failed before building), `done` once it promoted or failed; before that, the output of each platform
    its build `offer`ed (built while its other platforms still build), for its children's cache warm-ups."""

    def __init__(self, children: Sequence[str] = (), permits: Permits | None = None) -> None:
        self.built = threading.Event()
        self.done = threading.Event()
        self.pinned: Pinned | None = None  # what children build FROM
        self.ok = False  # promoted (or unchanged, or tested in a build run)
        self._children = tuple(children)
        self._permits = permits
        self._offers: dict[str, Pinned] = {}
        self._offered = threading.Condition()

    def offer(self, platform: str, output: Pinned) -> None:
        """PLATFORM's OUTPUT is built (the image's other platforms still build)."""
        with self._offered:
            self._offers[platform] = output
            self._offered.notify_all()

    def offered(self, platform: str) -> Pinned | None:
        """PLATFORM's output once offered, if the candidate still does not exist `WARM_GRACE` seconds later;
        None once the candidate exists (build FROM that)."""
        with self._offered:
            self._offered.wait_for(lambda: platform in self._offers or self.built.is_set())
            self._offered.wait_for(self.built.is_set, timeout=WARM_GRACE)
            return None if self.built.is_set() else self._offers[platform]

    def publish(self) -> None:
        """Children may go on: ready for a permit, all at once, before any of them wakes."""
        if self._permits is not None and not self.built.is_set():
            self._permits.ready(self._children)
        with self._offered:
            self.built.set()
            self._offered.notify_all()

    def release(self) -> None:
        self.publish()
        self.done.set()
