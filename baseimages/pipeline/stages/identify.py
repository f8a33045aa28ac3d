"""Name the build before children use it: settled on the published digest when it reproduces it byte for
byte, else the immutable tag it will have."""

from __future__ import annotations

import dataclasses

from ...core.events import Phase
from ...core.reference import parse_reference
from ...oci.archive import archive_index
from ...registry.published import immutable_tag
from ..actions import Action, Read
from .base import ImageContext, Settled, Stage


class Identify(Stage):
    """Name the build before children use it. When pushing: a build whose platform manifests are the
    ones already published for its version (a reproducible rebuild) is settled there, nothing moves and
    its children build FROM the published index; otherwise its name is the immutable tag it will have
    (the day's tag that already names its digest, else the next free number): the `base.name` of its
    children. In a build run children may build FROM it from here on; when pushing, once it is uploaded."""

    key = "identify"
    phase = Phase.IDENTIFYING
    heavy = False

    def publishes(self, ctx: ImageContext) -> bool:
        return not ctx.push  # pushing, children wait for the candidate's upload (they build FROM it there)

    def actions(self, ctx: ImageContext) -> list[Action]:
        assert ctx.built is not None
        if not ctx.push:
            return []
        image = ctx.image
        return [Read(f"find the immutable tag of {ctx.built.digest}: {image.repository}:{image.tags.dated}.N "
                     "(registry API: HEAD per build number of the day)")]  # fmt: skip

    def run(self, ctx: ImageContext) -> None:
        assert ctx.built is not None
        image = ctx.image
        if ctx.push:
            # Tags that disagree (not converged) are set anew by this build's promotion, even a reproduced one.
            disagrees = ctx.decision is not None and ctx.decision.disagrees
            published = None if disagrees else _reproduces(ctx)
            if published is not None:
                reason = f"rebuilt byte for byte: the platform manifests of {published} (nothing moved)"
                ctx.settled = Settled(published, reason)
                return
            ctx.immutable = immutable_tag(ctx.tools.registry, image, ctx.built.digest)
        self._name(ctx)

    def assume(self, ctx: ImageContext) -> None:
        """A dry run names the build with the day's next free immutable tag (read from the registry, when
        it answers); whether a rebuild reproduces a published one only a run can tell."""
        assert ctx.built is not None
        if ctx.push:
            image, digest = ctx.image, ctx.built.digest
            unknown = f"{image.tags.dated}.<N>"
            ctx.immutable = ctx.tools.read_or(lambda: immutable_tag(ctx.tools.registry, image, digest), unknown)
        self._name(ctx)

    @staticmethod
    def _name(ctx: ImageContext) -> None:
        assert ctx.built is not None
        image = ctx.image
        tag = ctx.immutable if ctx.push else image.spec.version
        ctx.built = dataclasses.replace(ctx.built, name=f"{image.repository}:{tag}")


def _reproduces(ctx: ImageContext) -> str | None:
    """The digest published at the image's version when the build has exactly its platform manifests."""
    assert ctx.archive is not None
    registry = ctx.tools.registry
    version = parse_reference(f"{ctx.image.repository}:{ctx.image.spec.version}")
    published = registry.digest(version)
    if published is None:
        return None
    _, built = archive_index(ctx.archive)
    index = registry.index(parse_reference(f"{ctx.image.repository}@{published}"))
    return published if {m.platform: m.digest for m in index.manifests} == built else None
