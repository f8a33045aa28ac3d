"""Promotion: once every check passed and the parent promoted, point the day's next immutable tag and
every rolling tag at the tested digest (the same manifest bytes, one PUT per tag), in the promotion
order of `catalog.tags`: the immutable tag first, `latest` last. And convergence: a promotion a
previous run left half done (its immutable tag written, some rolling tags not) finished by moving
the tags that lag, without a build or a test (the digest passed before its immutable tag was written)."""

from __future__ import annotations

from ...catalog.changes import Action as Verdict
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
        """IMMUTABLE (the tag `identify` chose; else the day's tag for the digest), then every rolling tag,
        in promotion order."""
        assert ctx.built is not None
        image, digest = ctx.image, ctx.built.digest
        immutable = ctx.immutable or immutable_tag(ctx.tools.registry, image, digest)
        return [MoveTags(image.repository, digest, (immutable, *image.tags.rolling))]

    def run(self, ctx: ImageContext) -> None:
        move_tags(ctx, only(self.actions(ctx), MoveTags))


class Converge(Stage):
    """The tags a cut-short promotion left behind, moved to the digest its immutable tag names (the
    change detection's CONVERGE verdict says which): the only stage of a converging image."""

    key = "promote"
    phase = Phase.PROMOTING
    heavy = False
    gate = Gate.PARENT_DONE

    def applies(self, ctx: ImageContext) -> bool:
        decision = ctx.decision
        return ctx.push and decision is not None and decision.action is Verdict.CONVERGE

    def detail(self, ctx: ImageContext) -> str:
        assert ctx.decision is not None
        return f"converging {', '.join(ctx.decision.moves)} onto {ctx.decision.proof}"

    def actions(self, ctx: ImageContext) -> list[Action]:
        decision = ctx.decision
        assert decision is not None and decision.current_digest is not None
        return [MoveTags(ctx.image.repository, decision.current_digest, decision.moves)]

    def run(self, ctx: ImageContext) -> None:
        move_tags(ctx, only(self.actions(ctx), MoveTags))


class MoveSettled(Stage):
    """The tags of a promotion that do not name the published digest an image settled onto (a rebuild with
    nothing inside changed, see stages.changelog), moved to it: no new digest, e.g. the new month's tag."""

    key = "promote"
    phase = Phase.PROMOTING
    heavy = False
    gate = Gate.PARENT_DONE

    def detail(self, ctx: ImageContext) -> str:
        assert ctx.settled is not None
        return f"moving {', '.join(ctx.settled.moves)} onto {ctx.settled.digest} (nothing inside changed)"

    def actions(self, ctx: ImageContext) -> list[Action]:
        settled = ctx.settled
        assert settled is not None
        return [MoveTags(ctx.image.repository, settled.digest, settled.moves)] if settled.moves else []

    def run(self, ctx: ImageContext) -> None:
        move_tags(ctx, only(self.actions(ctx), MoveTags))


def move_tags(ctx: ImageContext, moves: list[MoveTags]) -> None:
    """Execute MOVES, in order (one PUT per tag, each retried); the result names the tags moved."""
    for move in moves:
        ctx.tools.registry.copy_tags(parse_reference(f"{move.repository}@{move.digest}"), list(move.tags))
        ctx.result.tags = list(move.tags)
