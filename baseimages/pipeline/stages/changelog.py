"""The changelog of a promotion: per platform, what changed from the build the promotion replaces to the
tested candidate (Debian packages, Python distributions, config, compressed size: baseimages.changelog),
read from the registry alone once the candidate is uploaded, while its checks run (`beside` them: it reads
layers and hashes files while the smoke tests and the contract run containers), and awaited before
anything is signed or any tag moves. A check that fails fails the image whatever the changelog found.

What the candidate is compared with, read before the promotion moves it:

1. the version's rolling tag (`X.Y.Z`, or `X.Y.Z-pre` for a pre-release): the build everyone on this
   version gets now, the one this promotion replaces;
2. else `latest`: a new version, compared with the newest build of the image people get now;
3. else nothing: a first promotion (the changelog's `first` state).

Nothing inside changed: compared with the version's own tag, with the same platforms, and on every
platform the changelog finds the same Debian packages, Python distributions, files (path, type, mode,
owner, size and content; not their dates) and config but for the build labels (the build date, the
revision, the base's name and digest, the input fingerprint: its `unchanged` and `rebuilt` states), the
candidate is not promoted. The image settles onto the published digest (no new immutable tag), and only
the rolling tags that do not name that digest yet (the new month's tag, say) move to it, once the parent
is done. Consumers whose pins are current are not asked to rebuild for nothing.

A changelog that cannot be read fails nothing: the promotion goes on without it, and the progress says why.
"""

from __future__ import annotations

from ...changelog import Changelog as Log
from ...changelog import State
from ...core.errors import RegistryError
from ...core.events import Phase
from ...core.reference import parse_reference
from ..actions import Action, Read
from .base import ImageContext, Settled, Stage

LATEST = "latest"


class Changelog(Stage):
    key = "changelog"
    phase = Phase.READING_CHANGELOG
    heavy = False
    beside = True

    def applies(self, ctx: ImageContext) -> bool:
        return ctx.push

    def detail(self, ctx: ImageContext) -> str:
        return f"against {ctx.image.repository}:{version_tag(ctx)} (else :{LATEST})"

    def actions(self, ctx: ImageContext) -> list[Action]:
        assert ctx.built is not None
        where = f"{ctx.image.repository}:{version_tag(ctx)} (else :{LATEST})"
        return [
            Read(
                f"the changelog of {ctx.built.digest} against {where}: manifests, configs and the layers "
                "that differ (registry API)"
            )
        ]

    def run(self, ctx: ImageContext) -> None:
        assert ctx.built is not None
        try:
            previous = ctx.with_retries(lambda: _previous(ctx))
            old = None if previous is None else parse_reference(f"{ctx.image.repository}:{previous[0]}")
            new = parse_reference(f"{ctx.image.repository}@{ctx.built.digest}")
            from ...changelog.compute import changelog  # the layer readers load only when a changelog is read

            log = ctx.with_retries(lambda: changelog(ctx.tools.registry, old, new, cache=ctx.tools.layer_facts))
        except RegistryError as exc:
            ctx.note(f"no changelog (the promotion goes on without it): {exc}", None)
            return
        ctx.changelog = log
        ctx.result.changelog = log.to_dict()
        ctx.note(summary(log), None)
        if previous is None or previous[0] != version_tag(ctx) or not same_contents(log):
            return
        if ctx.decision is not None and ctx.decision.disagrees:  # a promotion cut short: promote anew
            return
        _settle(ctx, previous[0], previous[1])


def version_tag(ctx: ImageContext) -> str:
    """The version's rolling tag: the first a promotion moves after the immutable one."""
    return ctx.image.tags.rolling[0]


def _previous(ctx: ImageContext) -> tuple[str, str] | None:
    """(tag, digest) of what the candidate is compared with: the version's tag, else `latest`, else None."""
    registry = ctx.tools.registry
    for tag in (version_tag(ctx), LATEST):
        digest = registry.digest(parse_reference(f"{ctx.image.repository}:{tag}"))
        if digest is not None:
            return tag, digest
    return None


def same_contents(log: Log) -> bool:
    """Whether nothing inside changed: the same platforms, each `unchanged` or `rebuilt` (the same packages,
    distributions, files, and config but for the build labels)."""
    if log.first or not log.platforms:
        return False
    return all(platform.state in (State.UNCHANGED, State.REBUILT) for platform in log.platforms.values())


def _settle(ctx: ImageContext, tag: str, digest: str) -> None:
    """The candidate holds what DIGEST (at TAG) holds: settle there, moving only the rolling tags that do
    not name it yet."""
    registry = ctx.tools.registry
    repository = ctx.image.repository

    def lagging() -> tuple[str, ...]:
        rolling = ctx.image.tags.rolling
        return tuple(t for t in rolling if registry.digest(parse_reference(f"{repository}:{t}")) != digest)

    moves = ctx.with_retries(lagging)
    moved = f"; moving {', '.join(moves)} to it" if moves else "; every tag names it already"
    reason = (
        f"nothing inside changed: the same Debian packages, Python distributions, files and config (but for "
        f"the build labels) as {repository}:{tag} ({digest}), kept: no new digest{moved}"
    )
    ctx.settled = Settled(digest, reason, moves)


def summary(log: Log) -> str:
    """One line for the progress: what the candidate is compared with, and each platform's state and counts."""
    against = "first promotion" if log.old is None else f"against {log.old.reference} ({log.old.digest})"
    parts = []
    for name in sorted(log.platforms):
        platform = log.platforms[name]
        groups = ((platform.packages, "packages"), (platform.python, "python"), (platform.config, "config"))
        counts = [f"{len(items)} {what}" for items, what in groups if items and platform.state is State.CHANGED]
        parts.append(f"{name} {platform.state.value}" + (f" ({', '.join(counts)})" if counts else ""))
    return f"{against}: {'; '.join(parts)}"
