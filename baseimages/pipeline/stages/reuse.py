"""Settle a rebuild of published inputs without exporting it, when the registry cache proves the outcome.

A rebuild of inputs already published (`--force`, the same day) builds every step from the registry
cache and, being reproducible, comes out as the published image; but to find that out each platform's
build exports the whole image, and on an engine without the layers (a fresh CI runner) BuildKit reads
every layer back from the cache and rewrites it. This stage asks first, per platform:

- would the build export what the published build exported, given the same steps? The published
  index records, per platform, the recipe of its build request (labels, the build date, output
  options...: `BuildRequest.recipe`) beside what the registry cache ref held after that build
  (`BUILD_CACHE_KEY`; recorded only when the build wrote the ref anew, so that a failed cache export
  is never taken for this build's), and the image's inputs must have the published fingerprint;
- is the registry cache ref still what that build exported? It is read now;
- does BuildKit find every step in the cache? A build with `type=cacheonly` output (nothing exported,
  the cache not written) says so in its progress.

When all hold for every platform, the image settles on the published digest and nothing after this
stage runs (its children build FROM the published image). Otherwise the build runs as usual, with the
reason in the progress. `--no-cache` never asks (its point is to run every step again), nor does a
fresh build (refresh `updates`). A build on another day exports another image (its dates): it builds.
"""

from __future__ import annotations

import dataclasses
from concurrent.futures import ThreadPoolExecutor

from ...catalog.changes import Action as Verdict
from ...catalog.fingerprint import FINGERPRINT_KEY
from ...core.errors import BuildError, RegistryError
from ...core.events import Phase
from ...engine.build_cache import BUILD_CACHE_KEY, cache_ref, decode_cache_states
from ...engine.build_logs import cached_steps
from ..actions import Action, CacheProbe, PlatformBuild, Read, only
from .base import ImageContext, Settled, Stage
from .build import build_actions, cache_record, cache_state, image_inputs, platform_log


class ReuseCached(Stage):
    """Before a rebuild of published inputs: settled on the published digest, without exporting, when
    every platform's registry cache is the one its build exported and holds every step."""

    key = "reuse"
    phase = Phase.BUILDING

    def applies(self, ctx: ImageContext) -> bool:
        decision = ctx.decision
        return (
            ctx.push
            and ctx.tools.settings.build_cache
            and not ctx.tools.no_cache
            and decision is not None
            and decision.action is Verdict.BUILD
            and not decision.fresh
            and not decision.disagrees
            and decision.current_digest is not None
            and BUILD_CACHE_KEY in decision.published
        )

    def detail(self, ctx: ImageContext) -> str:
        return "is the registry cache the published build's, with every step?"

    def actions(self, ctx: ImageContext) -> list[Action]:
        assert ctx.parent is not None and ctx.decision is not None
        builds = only(build_actions(ctx, image_inputs(ctx, ctx.parent.digest)), PlatformBuild)
        ref = cache_ref(ctx.image.repository, "<platform>")
        actions: list[Action] = [Read(f"read {ref} of each platform: still what the published build exported?")]
        for build in builds:
            probe = dataclasses.replace(build.request, output={"type": "cacheonly"}, cache_to=None, metadata_file=None)
            actions.append(CacheProbe(build.platform, build.builder, probe))
        return actions

    def run(self, ctx: ImageContext) -> None:
        assert ctx.parent is not None and ctx.decision is not None
        digest = ctx.decision.current_digest
        assert digest is not None
        why = self._not_reusable(ctx) or _not_all_cached(ctx, only(self.actions(ctx), CacheProbe))
        if why is not None:
            ctx.note(f"building: {why}", None)
            return
        ctx.result.fingerprint = image_inputs(ctx, ctx.parent.digest).fingerprint
        reason = f"every step in the registry cache its published build exported: settled on {digest}, not exported"
        ctx.settled = Settled(digest, reason)

    @staticmethod
    def _not_reusable(ctx: ImageContext) -> str | None:
        """Why the registry cache cannot stand for the build (None: it may, if every step is in it)."""
        assert ctx.parent is not None and ctx.decision is not None
        published = ctx.decision.published
        inputs = image_inputs(ctx, ctx.parent.digest)
        if published.get(FINGERPRINT_KEY) != inputs.fingerprint:
            return "its inputs are not the published image's"
        recorded = decode_cache_states(published.get(BUILD_CACHE_KEY, ""))
        builds = only(build_actions(ctx, inputs), PlatformBuild)
        if set(recorded) != {b.platform for b in builds}:
            return "the published index records no registry cache for every platform"
        other = [b.platform for b in builds if recorded[b.platform].partition("+")[2] != b.request.recipe()]
        if other:
            return f"its {', '.join(other)} build would not export the published image (labels, build date or options)"
        moved = [b.platform for b in builds if cache_record(cache_state(ctx, b) or "", b) != recorded[b.platform]]
        if moved:
            return f"the registry cache of {', '.join(moved)} is no longer the one the published build exported"
        return None


def _not_all_cached(ctx: ImageContext, probes: list[CacheProbe]) -> str | None:
    """Why PROBES say the build would run a step (None: every step of every platform is cached)."""
    with ThreadPoolExecutor(max_workers=max(1, len(probes))) as pool:
        found = list(pool.map(lambda probe: _probe(ctx, probe), probes))
    missed = [f"{probe.platform}: {said}" for probe, said in zip(probes, found, strict=True) if said is not None]
    return f"not every step is in the registry cache ({'; '.join(missed)})" if missed else None


def _probe(ctx: ImageContext, probe: CacheProbe) -> str | None:
    """What PROBE's build says against reusing (None: every Dockerfile step cached)."""
    lines: list[str] = []
    log = platform_log(ctx, probe.platform)  # the image's build log gets the probe's lines too

    def line(text: str) -> None:
        lines.append(text)
        if log is not None:
            log(text)

    def ask() -> None:
        lines.clear()
        ctx.tools.engine.build_files(probe.request, f"{ctx.name} ({probe.platform})", line)

    ctx.note(f"asking the registry cache on {probe.builder}", probe.platform)
    try:
        ctx.with_retries(ask)
    except (BuildError, RegistryError) as exc:  # the build will say it again, or succeed
        return f"the probe failed ({str(exc).splitlines()[0]})"
    hit, steps = cached_steps(lines)
    return None if steps and hit == steps else f"{hit} of {steps} steps cached"
