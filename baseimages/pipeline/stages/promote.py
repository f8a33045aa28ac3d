"""Promotion: once every check passed and the parent promoted, point the day's next immutable tag and
every rolling tag at the tested digest (the same manifest bytes, one PUT per tag)."""

from __future__ import annotations

import datetime as dt

from ...catalog.plan import PlannedImage
from ...catalog.tags import compute_tags
from ...core.events import Phase
from ...core.reference import parse_reference
from ...registry.client import RegistryClient
from .base import Gate, ImageContext, Stage


class Promote(Stage):
    key = "promote"
    phase = Phase.PROMOTING
    heavy = False
    gate = Gate.PARENT_DONE

    def applies(self, ctx: ImageContext) -> bool:
        return ctx.push

    def detail(self, ctx: ImageContext) -> str:
        return ", ".join(ctx.image.tags.shown)

    def run(self, ctx: ImageContext) -> None:
        assert ctx.built is not None
        ctx.result.tags = promote(ctx.tools.registry, ctx.image, ctx.built.digest, ctx.immutable)

    def describe(self, ctx: ImageContext) -> list[str]:
        assert ctx.built is not None
        return [
            f"# tag {ctx.image.repository}@{ctx.built.digest} as {', '.join(ctx.image.tags.shown)} "
            "(registry API: one manifest PUT per tag; N: the day's next build number)"
        ]


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


def promote(registry: RegistryClient, image: PlannedImage, digest: str, immutable: str | None = None) -> list[str]:
    """Point IMMUTABLE (default: the day's tag for DIGEST) and every rolling tag at DIGEST."""
    tags = [immutable or immutable_tag(registry, image, digest), *image.tags.rolling]
    registry.copy_tags(parse_reference(f"{image.repository}@{digest}"), tags)
    return tags


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
