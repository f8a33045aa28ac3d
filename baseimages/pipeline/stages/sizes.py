"""Compare the candidate's compressed sizes with the previous build's: what `latest` names before this
run moves it (the build consumers get now, of this version or an older one). Read from the registry's
index, per platform, right before promotion; the report's tables show each size and its change.

Why the registry and not an annotation: a build cannot carry its own compressed sizes (they exist only
once it is built), and the index in the registry is the truth for any previous build, whichever tool
or version of baseimages made it. A previous build that cannot be read fails nothing: the sizes'
change is then unknown, and the progress says why.
"""

from __future__ import annotations

from ...core.errors import RegistryError
from ...core.events import Phase
from ...core.reference import parse_reference
from ...registry.client import ImageIndex
from ..actions import Action, Read
from .base import ImageContext, Stage

MB = 1_000_000
PREVIOUS_TAG = "latest"


class CompareSizes(Stage):
    key = "sizes"
    phase = Phase.COMPARING_SIZES
    heavy = False

    def applies(self, ctx: ImageContext) -> bool:
        return ctx.push

    def detail(self, ctx: ImageContext) -> str:
        return f"against {ctx.image.repository}:{PREVIOUS_TAG}"

    def run(self, ctx: ImageContext) -> None:
        previous = _previous_index(ctx)
        if previous is None:
            return
        ctx.result.previous_digest = previous.digest
        changes = []
        for platform in ctx.result.platforms:
            manifest = previous.for_platform(platform.platform)
            if manifest is None:
                continue
            platform.previous_bytes = manifest.compressed_size
            if platform.compressed_bytes is not None:
                change = (platform.compressed_bytes - manifest.compressed_size) / MB
                changes.append(f"{platform.platform} {change:+.1f} MB")
        ctx.note(f"previous build {previous.digest}: " + (", ".join(changes) or "no common platform"), None)

    def actions(self, ctx: ImageContext) -> list[Action]:
        return [Read(f"read the index at {ctx.image.repository}:{PREVIOUS_TAG} (registry API): the previous sizes")]


def _previous_index(ctx: ImageContext) -> ImageIndex | None:
    """The index `latest` names now, None when there is none or it cannot be read (noted)."""
    registry = ctx.tools.registry
    repository = ctx.image.repository
    try:
        digest = ctx.with_retries(lambda: registry.digest(parse_reference(f"{repository}:{PREVIOUS_TAG}")))
        if digest is None:
            ctx.note(f"no previous build: {repository}:{PREVIOUS_TAG} does not exist yet", None)
            return None
        return ctx.with_retries(lambda: registry.index(parse_reference(f"{repository}@{digest}")))
    except RegistryError as exc:
        ctx.note(f"previous sizes not read (their change stays unknown): {exc}", None)
        return None
