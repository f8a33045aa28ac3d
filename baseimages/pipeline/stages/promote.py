"""Promotion: once every check passed and the parent promoted, point the day's next immutable tag and
every rolling tag at the tested digest (the same manifest bytes, one PUT per tag)."""

from __future__ import annotations

from ...core.events import Phase
from ...core.reference import parse_reference
from ...registry.published import immutable_tag
from ..actions import Action, MoveTags, only
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

    def actions(self, ctx: ImageContext) -> list[Action]:
        """IMMUTABLE (the tag `identify` chose; else the day's tag for the digest) and every rolling tag."""
        assert ctx.built is not None
        image, digest = ctx.image, ctx.built.digest
        immutable = ctx.immutable or immutable_tag(ctx.tools.registry, image, digest)
        return [MoveTags(image.repository, digest, (immutable, *image.tags.rolling))]

    def run(self, ctx: ImageContext) -> None:
        for move in only(self.actions(ctx), MoveTags):
            ctx.tools.registry.copy_tags(parse_reference(f"{move.repository}@{move.digest}"), list(move.tags))
            ctx.result.tags = list(move.tags)
