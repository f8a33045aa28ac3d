"""Warm a child's build cache while its parent still builds.

A child builds FROM its parent's candidate, which exists once every platform of the parent is built,
merged (and, when pushing, uploaded). The parent's platforms rarely finish together (arm64 under QEMU
takes several times amd64's time), so the child's amd64 steps could run long before. This stage runs
them then: as soon as the parent's build of a platform ends while its other platforms still build,
the child's build of that platform runs FROM that output (an OCI layout, the named build context
`oci-layout://DIR@DIGEST`) and exports nothing (`type=cacheonly`, the registry cache not written). Its
steps stay in BuildKit's cache, keyed by what they run on: a base image's key is the chain of its layers
(`ChainID` of the config's diff_ids), not the manifest or the place it was read from, and the candidate
holds the very layers of that output. The child's own build of the platform, FROM the candidate, waits
for the warm-up and finds every step cached; it exports, tags and tests as ever (nothing it promotes
comes from the warm-up).

It runs only where it can help, with the `warm-up` setting on (the default): not when the parent's
candidate exists within `WARM_GRACE` seconds of the offer (see `permits`), not with `--no-cache` or
a fresh build (every step runs again anyway), not for a Dockerfile that declares `ARG BASE_IMAGE` inside
a stage (the base's reference would then be part of every step's key, and it differs), and only with a
free `jobs` permit (taken, never waited for, kept by the image for its own build). A warm-up that fails
changes nothing: the build runs every step.
"""

from __future__ import annotations

import dataclasses
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from ...catalog.changes import Action as Verdict
from ...catalog.dockerfile import read_dockerfile
from ...core.errors import BaseImagesError
from ...core.events import Phase
from ..actions import Action, CacheWarm, placeholder
from .base import PARENT_CONTEXT, ImageContext, Pinned, Stage, Warming
from .build import build_request, builder_name, platform_log, platform_output


class WarmCache(Stage):
    """A child's steps of each platform built FROM its parent's output of that platform while the parent's
    other platforms still build, exporting nothing: its own build then finds them in the cache."""

    key = "warm"
    phase = Phase.BUILDING
    heavy = False  # takes a free permit itself, never waits for one
    early = True

    def applies(self, ctx: ImageContext) -> bool:
        decision = ctx.decision
        return (
            ctx.tools.settings.warm_up
            and not ctx.image.spec.parent_is_external
            and not ctx.tools.no_cache
            and (decision is None or (decision.action is Verdict.BUILD and not decision.fresh))
            and not redeclares_base(ctx.image.spec.dockerfile)
        )

    def actions(self, ctx: ImageContext) -> list[Action]:
        parent = ctx.image.spec.parent
        actions: list[Action] = []
        for platform in ctx.image.platforms:
            layout = platform_output(ctx.tools.workdir, parent, platform)
            source = Pinned(f"{parent} ({platform})", placeholder(f"{parent} {platform}"), local=True, layout=layout)
            actions.append(warm_action(ctx, platform, source))
        return actions

    def run(self, ctx: ImageContext) -> None:
        warming = ctx.warming
        assert warming is not None
        platforms = ctx.image.platforms
        with ThreadPoolExecutor(max_workers=max(1, len(platforms))) as pool:
            list(pool.map(lambda platform: _warm(ctx, warming, platform), platforms))


def _warm(ctx: ImageContext, warming: Warming, platform: str) -> None:
    """PLATFORM's warm-up: once the parent offers that platform's output (and a permit is free)."""
    try:
        source = warming.offered(platform)
        if source is None or not warming.take_permit():
            return
        action = warm_action(ctx, platform, source)
        ctx.note(f"warming the cache on {action.builder} FROM {action.source}", platform)
        try:
            ctx.tools.engine.build_files(action.request, f"{ctx.name} ({platform})", platform_log(ctx, platform))
        except BaseImagesError as exc:  # the build runs every step itself, and says why it fails if it does
            ctx.note(f"warm-up failed, the build runs every step: {str(exc).splitlines()[0]}", platform)
            return
        ctx.note(f"cache warmed on {action.builder}", platform)
    finally:
        warming.over(platform)


def warm_action(ctx: ImageContext, platform: str, source: Pinned) -> CacheWarm:
    """The warm-up of PLATFORM FROM SOURCE (the parent's output of it, an OCI layout): the image's build
    request, but FROM that layout and exporting nothing."""
    assert source.layout is not None
    request = build_request(ctx, source, None, platform, Path("-"))
    request = dataclasses.replace(
        request,
        build_args={**request.build_args, "BASE_IMAGE": PARENT_CONTEXT},
        build_contexts={**request.build_contexts, PARENT_CONTEXT: f"oci-layout://{source.layout}@{source.digest}"},
        output={"type": "cacheonly"},
        cache_to=None,
        metadata_file=None,
    )
    builder = builder_name(request.docker_context or request.builder)
    return CacheWarm(platform, builder, f"the {platform} output of {ctx.image.spec.parent}", request)


def redeclares_base(dockerfile: Path) -> bool:
    """Whether DOCKERFILE declares `ARG BASE_IMAGE` inside a stage (its value then enters every later step's
    cache key); unreadable counts as yes (the build reports it)."""
    try:
        stages = list(read_dockerfile(dockerfile).stages())
    except BaseImagesError:
        return True
    return any(
        instruction.keyword == "ARG" and any(word.split("=", 1)[0] == "BASE_IMAGE" for word in instruction.text.split())
        for stage in stages
        if stage and stage[0].keyword == "FROM"
        for instruction in stage
    )
