"""Where a planned image is published: the immutable tag a digest gets (or already has) on its day, and
the tags that name a digest now. Reads only (HEAD per tag); the scheduler and the stages share them."""

from __future__ import annotations

import datetime as dt

from ..catalog.plan import PlannedImage
from ..catalog.tags import compute_tags
from ..core.reference import parse_reference
from .client import RegistryClient


def immutable_tag(registry: RegistryClient, image: PlannedImage, digest: str) -> str:
    """The day's immutable tag for DIGEST: the one that already names it, else the next free number.
    An immutable tag that exists never moves: a new build of the day gets the next number."""
    build = 1
    while True:
        tag = image.tags.immutable(build)
        existing = registry.digest(parse_reference(f"{image.repository}:{tag}"))
        if existing is None or existing == digest:
            return tag
        build += 1


def tags_at(registry: RegistryClient, image: PlannedImage, digest: str, built: dt.datetime | None) -> list[str]:
    """The tags of IMAGE's repository that point at DIGEST now, among those a promotion on the day BUILT
    (or today) set: where a consumer finds an unchanged image."""
    tags = image.tags if built is None else compute_tags(image.spec.version, built.date())
    candidates = [*tags.rolling, *(t for t in image.tags.rolling if t not in tags.rolling)]

    def digest_of(tag: str) -> str | None:
        return registry.digest(parse_reference(f"{image.repository}:{tag}"))

    found = []
    build = 1
    while (existing := digest_of(tags.immutable(build))) is not None:
        if existing == digest:
            found.append(tags.immutable(build))
        build += 1
    return found + [tag for tag in candidates if digest_of(tag) == digest]
